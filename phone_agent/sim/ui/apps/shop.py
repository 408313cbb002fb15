"""The shop (com.ebay.mobile): search, results, item, sign-in wall, secure payment, order placed."""

from __future__ import annotations

import zlib

from phone_agent.sim.ui.apps.base import App, Page, Screen, button, label, text_field, title_bar
from phone_agent.sim.ui.widgets import Action, Kind, Rect, Widget, list_view

SHOP = "com.ebay.mobile"
SEARCH_FIELD = f"{SHOP}:id/search_src_text"
RESULTS_LIST = f"{SHOP}:id/recycler"
DEFAULT_ITEM = "Wireless earbuds with charging case"

_TITLES = (
    "Wireless {q} with charging case", "Sport {q}, sweat-resistant", "Noise cancelling {q} (black)",
    "Refurbished {q}, grade A", "Budget {q}, pack of 2", "Premium {q} in gift box", "{q} for kids, volume limited",
    "Waterproof {q} IPX7", "Gaming {q} low latency", "Vintage {q} collector's edition", "Compact {q} travel size",
    "{q} with microphone", "Bulk lot: 10 × {q}", "Open box {q}, like new", "Pro {q} 2nd generation",
    "Replacement tips for {q}", "Bamboo case for {q}", "{q} — white, unused",
)


def search_results(query: str) -> list[str]:
    """The deterministic result titles for a query; every one contains the query as typed."""
    return [pattern.format(q=query) for pattern in _TITLES]


def price_of(title: str) -> str:
    """A stable price for an item title."""
    cents = 999 + zlib.crc32(title.encode()) % 20000
    return f"${cents // 100}.{cents % 100:02d}"


class HomePage(Page):
    """The shop's start: a search field with a Search button."""

    activity = f"{SHOP}.MainActivity"

    def build(self, screen: Screen) -> list[Widget]:
        """Search field, button, and a couple of static deals."""
        column = screen.column()
        shop = self.host.data.shop
        widgets = [
            title_bar(screen, column, "eBay", SHOP),
            text_field(self, column.take(56), SEARCH_FIELD, "Search for anything"),
            button(column.take(52, gap=24), "Search", f"{SHOP}:id/search_button", lambda: self.submit(SEARCH_FIELD)),
            label(column.take(32), "Daily Deals", f"{SHOP}:id/deals_title", size=20, bold=True),
            label(column.take(28), "Up to 60% off headphones", f"{SHOP}:id/deal", color="muted"),
            label(column.take(28), "Refurbished phones from $89", f"{SHOP}:id/deal", color="muted"),
            label(column.take(28, gap=24), f"Watching: {len(shop.watchlist)} items", f"{SHOP}:id/watch_count"),
        ]
        if shop.signed_in:
            widgets.append(label(column.take(28), "Signed in", f"{SHOP}:id/account", color="muted"))
        return widgets

    def submit(self, rid: str) -> None:
        """Search for the field's text (nothing happens for an empty query)."""
        query = self.fields.get(SEARCH_FIELD, "").strip()
        if rid == SEARCH_FIELD and query:
            self.host.data.shop.query = query
            self.host.push(ResultsPage(self.app, query))


class ResultsPage(Page):
    """A scrollable list of results; tap opens an item, long press offers the watchlist."""

    activity = f"{SHOP}.search.SearchResultsActivity"

    def __init__(self, app: App, query: str | None = None) -> None:
        super().__init__(app)
        self.query = query or app.host.data.shop.query or "earbuds"
        self.results = search_results(self.query)

    def build(self, screen: Screen) -> list[Widget]:
        """The count line above the result list."""
        column = screen.column()
        header = [
            title_bar(screen, column, self.query, SHOP),
            label(column.take(28), f'{len(self.results)} results for "{self.query}"', f"{SHOP}:id/result_count",
                  color="muted"),
        ]
        rows = list_view(column.rest(screen.bottom), RESULTS_LIST, len(self.results), screen.dp(88),
                         self.scroll.get(RESULTS_LIST, 0), lambda i, rect: self._row(i, rect, screen))
        return [*header, rows]

    def _row(self, index: int, rect: Rect, screen: Screen) -> Widget:
        """One result: title and price."""
        title = self.results[index]
        row = Widget(Kind.ROW, rect, rid=f"{SHOP}:id/search_result", fill="surface", on_tap=self._opener(title),
                     on_long=self._menu(title))
        inset = screen.dp(16)
        middle = (rect[1] + rect[3]) // 2
        row.children += [
            label((rect[0] + inset, rect[1] + screen.dp(8), rect[2] - inset, middle), title, f"{SHOP}:id/item_title",
                  bold=True),
            label((rect[0] + inset, middle, rect[2] - inset, rect[3] - screen.dp(8)), price_of(title),
                  f"{SHOP}:id/item_price", color="muted", size=14),
        ]
        return row

    def _opener(self, title: str) -> Action:
        """An action that opens the item page."""

        def act() -> None:
            self.host.data.shop.item = title
            self.host.push(ItemPage(self.app, title))

        return act

    def _menu(self, title: str) -> Action:
        """An action that shows the row's context menu."""

        def act() -> None:
            watching = title in self.host.data.shop.watchlist
            option = "Remove from watchlist" if watching else "Add to watchlist"
            self.host.menu(SHOP, title, [(option, lambda: toggle_watch(self.app, title))])

        return act


def toggle_watch(app: App, title: str) -> None:
    """Add an item to the watchlist, or take it off."""
    watchlist = app.host.data.shop.watchlist
    if title in watchlist:
        watchlist.remove(title)
    else:
        watchlist.append(title)


class ListingPage(Page):
    """A page about one listing: the one it was opened for, else the shop's current item."""

    def __init__(self, app: App, title: str | None = None) -> None:
        super().__init__(app)
        self.title = title or app.host.data.shop.item or DEFAULT_ITEM


class ItemPage(ListingPage):
    """One listing: photo (double tap to watch), title, price and Buy it now."""

    activity = f"{SHOP}.viewitem.ViewItemActivity"

    def build(self, screen: Screen) -> list[Widget]:
        """Photo, text and the buy button."""
        column = screen.column()
        watching = self.title in self.host.data.shop.watchlist
        return [
            title_bar(screen, column, "Item", SHOP),
            Widget(Kind.IMAGE, column.take(220), rid=f"{SHOP}:id/item_image", desc="Item photo",
                   on_double=lambda: toggle_watch(self.app, self.title)),
            label(column.take(64), self.title, f"{SHOP}:id/item_title", size=20, bold=True, wrap=True),
            label(column.take(36), price_of(self.title), f"{SHOP}:id/item_price", size=22, bold=True, color="accent"),
            label(column.take(28, gap=16), "\u2665 Watching" if watching else "Double-tap the photo to watch",
                  f"{SHOP}:id/watch_status", color="muted", size=14),
            button(column.take(52), "Buy it now", f"{SHOP}:id/buy_it_now", self._buy),
        ]

    def _buy(self) -> None:
        """Go to payment when signed in, else to the sign-in wall."""
        page = CheckoutPage(self.app, self.title) if self.host.data.shop.signed_in else SignInPage(self.app)
        self.host.push(page)


class SignInPage(Page):
    """The sign-in wall; only a person can pass it (the `set_signed_in` knob)."""

    activity = f"{SHOP}.signin.SignInActivity"
    error = ""  # why the last attempt failed, shown under the form

    def build(self, screen: Screen) -> list[Widget]:
        """Heading, email and password fields, and the Sign in button."""
        column = screen.column()
        widgets = [
            title_bar(screen, column, "My eBay", SHOP),
            label(column.take(40), "Sign in to continue", f"{SHOP}:id/sign_in_title", size=22, bold=True),
            text_field(self, column.take(56), f"{SHOP}:id/edit_text_username", "Email or username"),
            text_field(self, column.take(56), f"{SHOP}:id/edit_text_password", "Password", password=True),
            button(column.take(52), "Sign in", f"{SHOP}:id/button_sign_in", self._attempt),
        ]
        if self.error:
            widgets.append(label(column.take(72), self.error, f"{SHOP}:id/sign_in_error", color="danger", wrap=True))
        return widgets

    def _attempt(self) -> None:
        """Typed credentials never work: a verification step needs the owner."""
        self.error = "We need to verify it's you. Finish signing in on this phone."


class CheckoutPage(ListingPage):
    """Payment confirmation; FLAG_SECURE, so a real screencap of it is black."""

    activity = f"{SHOP}.checkout.CheckoutActivity"
    secure = True

    def build(self, screen: Screen) -> list[Widget]:
        """Order summary and the Confirm and pay button."""
        column = screen.column()
        return [
            title_bar(screen, column, "Review and pay", SHOP),
            label(column.take(64), self.title, f"{SHOP}:id/item_title", size=18, bold=True, wrap=True),
            label(column.take(32), f"Total {price_of(self.title)}", f"{SHOP}:id/total", size=20),
            label(column.take(32, gap=24), "Pay with Visa \u2022\u2022\u2022\u2022 4242", f"{SHOP}:id/payment_method",
                  color="muted"),
            button(column.take(52), "Confirm and pay", f"{SHOP}:id/confirm_and_pay", self._pay),
        ]

    def _pay(self) -> None:
        """Record the purchase and show the confirmation."""
        self.host.data.shop.purchased.append({"title": self.title, "price": price_of(self.title)})
        self.host.replace(OrderPage(self.app, self.title))


class OrderPage(ListingPage):
    """The receipt after paying."""

    activity = f"{SHOP}.checkout.OrderConfirmationActivity"

    def build(self, screen: Screen) -> list[Widget]:
        """Order placed, with a Done button."""
        column = screen.column()
        return [
            title_bar(screen, column, "Thank you", SHOP),
            label(column.take(48), "Order placed", f"{SHOP}:id/order_status", size=26, bold=True),
            label(column.take(72), f"{self.title} is on its way.", f"{SHOP}:id/order_detail", wrap=True),
            button(column.take(52), "Done", f"{SHOP}:id/done", lambda: self.host.finish(self)),
        ]


class Shop(App):
    """The eBay-like shop."""

    package = SHOP
    label = "eBay"
    launcher = HomePage.activity
    pages = {page.activity: page for page in (HomePage, ResultsPage, ItemPage, SignInPage, CheckoutPage, OrderPage)}

    def signed_in_changed(self) -> None:
        """Someone signed in by hand: a waiting sign-in wall gives way to the payment page."""
        if self.host.data.shop.signed_in and isinstance(self.host.top(SHOP), SignInPage):
            self.host.replace(CheckoutPage(self))
