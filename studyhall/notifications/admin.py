from django.contrib import admin

from studyhall.notifications.models import EmailPreference, Notification, SentReminder


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["user", "kind", "event", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "title"]
    readonly_fields = ["user", "kind", "event", "session", "title", "link", "created_at"]


@admin.register(EmailPreference)
class EmailPreferenceAdmin(admin.ModelAdmin[EmailPreference]):
    list_display = ["user", "kind", "by_email"]


@admin.register(SentReminder)
class SentReminderAdmin(admin.ModelAdmin[SentReminder]):
    list_display = ["session", "user", "kind", "for_moment", "sent_at"]
    list_filter = ["kind"]
