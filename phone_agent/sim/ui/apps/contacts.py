"""Contacts (com.android.contacts): the address book, and a contact card with a Message button."""

from __future__ import annotations

from phone_agent.sim.ui.apps.base import CONTACTS, App, Contact, Page, Screen, button, label, title_bar
from phone_agent.sim.ui.apps.messages import MESSAGING, ConversationPage
from phone_agent.sim.ui.widgets import Action, Kind, Widget, list_view

CONTACTS_PKG = "com.android.contacts"


class PeoplePage(Page):
    """All contacts; tapping one opens its card."""

    activity = f"{CONTACTS_PKG}.activities.PeopleActivity"

    def build(self, screen: Screen) -> list[Widget]:
        """Title and the contact rows."""
        column = screen.column()
        top = title_bar(screen, column, "Contacts", CONTACTS_PKG)

        def row(index: int, rect: tuple[int, int, int, int]) -> Widget:
            contact = CONTACTS[index]
            item = Widget(Kind.ROW, rect, rid=f"{CONTACTS_PKG}:id/contact_row", fill="surface",
                          on_tap=self._opener(contact))
            item.children.append(label((rect[0] + screen.dp(16), *rect[1:]), contact.name,
                                       f"{CONTACTS_PKG}:id/cliv_name_textview", size=18))
            return item

        rows = list_view(column.rest(screen.bottom), f"{CONTACTS_PKG}:id/list", len(CONTACTS), screen.dp(64),
                         self.scroll.get(f"{CONTACTS_PKG}:id/list", 0), row)
        return [top, rows]

    def _opener(self, contact: Contact) -> Action:
        """An action that opens a contact card."""

        def act() -> None:
            self.host.push(ContactPage(self.app, contact))

        return act


class ContactPage(Page):
    """One contact: name, number and a Message button that opens Messages on that conversation."""

    activity = f"{CONTACTS_PKG}.quickcontact.QuickContactActivity"

    def __init__(self, app: App, contact: Contact | None = None) -> None:
        super().__init__(app)
        self.contact = contact or CONTACTS[0]

    def build(self, screen: Screen) -> list[Widget]:
        """The card."""
        column = screen.column()
        return [
            title_bar(screen, column, "Contact", CONTACTS_PKG),
            label(column.take(48), self.contact.name, f"{CONTACTS_PKG}:id/large_title", size=26, bold=True),
            label(column.take(32, gap=24), self.contact.phone, f"{CONTACTS_PKG}:id/header", color="muted"),
            button(column.take(52), "Message", f"{CONTACTS_PKG}:id/message_button", self._message),
        ]

    def _message(self) -> None:
        """Open the conversation with this contact in Messages."""
        self.host.push(ConversationPage(self.host.app(MESSAGING), self.contact))


class Contacts(App):
    """The address book."""

    package = CONTACTS_PKG
    label = "Contacts"
    launcher = PeoplePage.activity
    pages = {PeoplePage.activity: PeoplePage, ContactPage.activity: ContactPage}
