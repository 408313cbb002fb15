"""Messages (com.android.messaging): conversation list, new chat, and a conversation with a Send button."""

from __future__ import annotations

from phone_agent.sim.ui.apps.base import CONTACTS, App, Contact, Page, Screen, button, label, text_field, title_bar
from phone_agent.sim.ui.widgets import Action, Kind, Rect, Widget, list_view

MESSAGING = "com.android.messaging"
COMPOSE = f"{MESSAGING}:id/compose_message_text"
STICK_TO_BOTTOM = 1 << 30


class ConversationListPage(Page):
    """Every conversation, most recent first, and a Start chat button."""

    activity = f"{MESSAGING}.ui.conversationlist.ConversationListActivity"

    def build(self, screen: Screen) -> list[Widget]:
        """Title, the Start chat button and the conversation rows."""
        column = screen.column()
        names = list(reversed(self.host.data.conversations))
        widgets = [
            title_bar(screen, column, "Messages", MESSAGING),
            button(column.take(52, gap=12), "Start chat", f"{MESSAGING}:id/start_new_conversation_button",
                   lambda: self.host.push(ConversationPage(self.app))),
        ]
        rows = list_view(column.rest(screen.bottom), f"{MESSAGING}:id/conversation_list", len(names), screen.dp(80),
                         self.scroll.get(f"{MESSAGING}:id/conversation_list", 0),
                         lambda i, rect: self._row(names[i], rect, screen))
        return [*widgets, rows]

    def _row(self, name: str, rect: Rect, screen: Screen) -> Widget:
        """One conversation: the contact and the last message."""
        last = self.host.data.conversations[name][-1][1] if self.host.data.conversations[name] else ""
        row = Widget(Kind.ROW, rect, rid=f"{MESSAGING}:id/swipeableContainer", fill="surface",
                     on_tap=lambda: self.host.push(ConversationPage(self.app, contact_named(name))))
        inset, middle = screen.dp(16), (rect[1] + rect[3]) // 2
        row.children += [
            label((rect[0] + inset, rect[1] + screen.dp(6), rect[2] - inset, middle), name,
                  f"{MESSAGING}:id/conversation_name", bold=True),
            label((rect[0] + inset, middle, rect[2] - inset, rect[3] - screen.dp(6)), last,
                  f"{MESSAGING}:id/conversation_snippet", color="muted", size=14),
        ]
        return row


def contact_named(name: str) -> Contact:
    """The address-book entry of a name (a bare number-less contact when unknown)."""
    return next((c for c in CONTACTS if c.name == name), Contact(name, ""))


class ConversationPage(Page):
    """A chat with one contact; without a contact yet it first asks whom to write to."""

    activity = f"{MESSAGING}.ui.conversation.ConversationActivity"

    def __init__(self, app: App, contact: Contact | None = None) -> None:
        super().__init__(app)
        self.contact = contact
        self.scroll[f"{MESSAGING}:id/message_list"] = STICK_TO_BOTTOM

    def build(self, screen: Screen) -> list[Widget]:
        """The contact picker, or the message history above the compose bar."""
        return self._picker(screen) if self.contact is None else self._chat(screen, self.contact)

    def _picker(self, screen: Screen) -> list[Widget]:
        """Choose a recipient from the contacts."""
        column = screen.column()
        widgets = [title_bar(screen, column, "New conversation", MESSAGING),
                   label(column.take(28), "To:", f"{MESSAGING}:id/recipient_label", color="muted")]
        for contact in CONTACTS:
            row = Widget(Kind.ROW, column.take(64, gap=0, inset=0), rid=f"{MESSAGING}:id/contact_row",
                         fill="surface", on_tap=self._choose(contact))
            row.children.append(label((row.bounds[0] + screen.dp(16), *row.bounds[1:]), contact.name,
                                      f"{MESSAGING}:id/contact_name", size=18))
            widgets.append(row)
        return widgets

    def _choose(self, contact: Contact) -> Action:
        """An action that picks the recipient."""

        def act() -> None:
            self.contact = contact

        return act

    def _chat(self, screen: Screen, contact: Contact) -> list[Widget]:
        """History bubbles, the text field and the Send button."""
        column = screen.column()
        history = self.host.data.conversations.get(contact.name, [])
        top = title_bar(screen, column, contact.name, MESSAGING)
        bar_top = screen.bottom - screen.dp(72)
        view = list_view((screen.left, column.y, screen.right, bar_top), f"{MESSAGING}:id/message_list",
                         len(history), screen.dp(64), self.scroll.get(f"{MESSAGING}:id/message_list", 0),
                         lambda i, rect: bubble(history[i], rect, screen))
        pad = screen.dp(8)
        field = text_field(self, (screen.left + pad, bar_top + pad, screen.right - screen.dp(104), screen.bottom - pad),
                           COMPOSE, "Text message")
        send = button((screen.right - screen.dp(96), bar_top + pad, screen.right - pad, screen.bottom - pad), "Send",
                      f"{MESSAGING}:id/send_message_button", self.send)
        return [top, view, field, send]

    def submit(self, rid: str) -> None:
        """ENTER in the compose field sends."""
        if rid == COMPOSE:
            self.send()

    def send(self) -> None:
        """Send the composed text (exactly as typed) and clear the field."""
        text = self.fields.get(COMPOSE, "")
        if self.contact is None or not text.strip():
            return
        data = self.host.data
        data.sent_messages.append({"to": self.contact.name, "number": self.contact.phone, "text": text})
        history = data.conversations.pop(self.contact.name, [])
        data.conversations[self.contact.name] = [*history, (True, text)]
        self.fields[COMPOSE] = ""
        self.scroll[f"{MESSAGING}:id/message_list"] = STICK_TO_BOTTOM


def bubble(message: tuple[bool, str], rect: Rect, screen: Screen) -> Widget:
    """One message: mine on the right, theirs on the left."""
    mine, text = message
    width = (rect[2] - rect[0]) * 3 // 4
    left = rect[2] - screen.dp(12) - width if mine else rect[0] + screen.dp(12)
    row = Widget(Kind.FRAME, rect, rid=f"{MESSAGING}:id/message_row")
    row.children.append(Widget(Kind.TEXT, (left, rect[1] + screen.dp(4), left + width, rect[3] - screen.dp(4)),
                               rid=f"{MESSAGING}:id/message_text", text=text, fill="bar" if mine else "surface",
                               wrap=True, size=15))
    return row


class Messages(App):
    """The SMS app."""

    package = MESSAGING
    label = "Messages"
    launcher = ConversationListPage.activity
    pages = {ConversationListPage.activity: ConversationListPage, ConversationPage.activity: ConversationPage}
