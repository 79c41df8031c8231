from django.urls import path

from studyhall.ledger import views

app_name = "ledger"
urlpatterns = [
    path("transactions/", views.transactions, name="transactions"),
]
