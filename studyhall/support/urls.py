from django.urls import path

from studyhall.support.views import (
    agent,
    chat,
    contact,
    corrections,
    disputes,
    history,
    inbox,
    late_log,
)

app_name = "support"
urlpatterns = [
    # The chat bubble (a user's own conversation)
    path("chat/", chat.chat, name="chat"),
    path("chat/panel/", chat.chat_panel, name="chat_panel"),
    path("chat/poll/", chat.chat_poll, name="chat_poll"),
    path("chat/send/", chat.chat_send, name="chat_send"),
    path("chat/seen/", chat.chat_seen, name="chat_seen"),
    # The contact form, for someone not signed in
    path("contact/", contact.contact, name="contact"),
    # The support inbox (agents)
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/", inbox.conversation, name="conversation"),
    path("inbox/<int:pk>/poll/", inbox.conversation_poll, name="conversation_poll"),
    path("inbox/<int:pk>/reply/", inbox.reply, name="reply"),
    path("inbox/<int:pk>/assign/", inbox.assign, name="assign"),
    path("inbox/<int:pk>/close/", inbox.close, name="close"),
    path("inbox/<int:pk>/reopen/", inbox.reopen, name="reopen"),
    # Agents: search, a person's page, writing first, the sessions an agent is handling
    path("search/", agent.search, name="search"),
    path("people/<int:pk>/", agent.person, name="person"),
    path("people/<int:pk>/write/", agent.start_conversation, name="start_conversation"),
    path("sessions/", agent.my_sessions, name="sessions"),
    # Logging a session after its grace period
    path("sessions/<int:pk>/late-log/", late_log.late_log_new, name="late_log_new"),
    path("late-log/<int:pk>/", late_log.late_log_detail, name="late_log_detail"),
    path("late-log/<int:pk>/approve/", late_log.late_log_approve, name="late_log_approve"),
    path("late-log/<int:pk>/decline/", late_log.late_log_decline, name="late_log_decline"),
    # Corrections with a second agent's approval
    path("sessions/<int:pk>/corrections/new/", corrections.correction_new, name="correction_new"),
    path("corrections/<int:pk>/", corrections.correction_detail, name="correction_detail"),
    path(
        "corrections/<int:pk>/approve/", corrections.correction_approve, name="correction_approve"
    ),
    path("corrections/<int:pk>/reject/", corrections.correction_reject, name="correction_reject"),
    # Students' disputes of logged sessions
    path("disputes/", disputes.dispute_list, name="disputes"),
    path("disputes/<int:pk>/", disputes.dispute_detail, name="dispute_detail"),
    path("disputes/<int:pk>/uphold/", disputes.dispute_uphold, name="dispute_uphold"),
    # A session's history
    path("sessions/<int:pk>/history/", history.session_history, name="session_history"),
]
