from django.contrib import admin

from studyhall.feeds.models import FeedConfig, FeedRun


@admin.register(FeedConfig)
class FeedConfigAdmin(admin.ModelAdmin[FeedConfig]):
    list_display = ["organization", "enabled", "run_at_hour", "export_directory", "sftp_host"]
    raw_id_fields = ["run_as"]


@admin.register(FeedRun)
class FeedRunAdmin(admin.ModelAdmin[FeedRun]):
    list_display = ["organization", "night", "push_status", "push_attempts", "summary_sent_at"]
    list_filter = ["organization", "push_status"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
