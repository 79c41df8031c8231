from django.urls import path

from studyhall.ledger import views

app_name = "ledger"
urlpatterns = [
    path("transactions/", views.transactions, name="transactions"),
    # Account settings → Earnings & payouts
    path("settings/", views.payout_settings, name="settings"),
    path("settings/stripe/connect/", views.stripe_connect, name="stripe_connect"),
    path("settings/stripe/refresh/", views.stripe_refresh, name="stripe_refresh"),
    path("settings/stripe/return/", views.stripe_return, name="stripe_return"),
    # Org admins: payout batches and the payroll export
    path("admin/", views.admin_home, name="admin_home"),
    path("admin/<int:org_id>/", views.admin_org, name="admin_org"),
    path("admin/<int:org_id>/run/", views.admin_run, name="admin_run"),
    path("admin/<int:org_id>/years/<int:year>/", views.admin_year, name="admin_year"),
    path("admin/batches/<int:batch_id>/", views.admin_batch, name="admin_batch"),
    path("admin/batches/<int:batch_id>/payroll.csv", views.admin_batch_csv, name="admin_batch_csv"),
    path(
        "admin/batches/<int:batch_id>/mark-paid/", views.admin_batch_paid, name="admin_batch_paid"
    ),
    path("admin/payouts/<int:payout_id>/fail/", views.admin_payout_fail, name="admin_payout_fail"),
]
