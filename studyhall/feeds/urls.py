from django.urls import path

from studyhall.feeds import feed_views, report_views, views, webhook_views

app_name = "feeds"
urlpatterns = [
    path("<int:org_id>/exports/", views.exports_page, name="exports"),
    path("<int:org_id>/exports/<str:filename>", views.export_download, name="export"),
    path("<int:org_id>/reports/", report_views.reports_page, name="reports"),
    path("<int:org_id>/webhooks/", webhook_views.webhooks_page, name="webhooks"),
    path("<int:org_id>/feed/", feed_views.feed_page, name="feed"),
    path("<int:org_id>/feed/test/", feed_views.test_connection, name="feed_test"),
    path("<int:org_id>/feed/run/", feed_views.run_now, name="feed_run"),
    path(
        "<int:org_id>/webhooks/<int:endpoint_id>/rotate/",
        webhook_views.rotate,
        name="webhook_rotate",
    ),
    path(
        "<int:org_id>/webhooks/<int:endpoint_id>/active/",
        webhook_views.toggle,
        name="webhook_toggle",
    ),
    path(
        "<int:org_id>/webhooks/deliveries/<int:message_id>/redeliver/",
        webhook_views.redeliver,
        name="webhook_redeliver",
    ),
]
