from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "studyhall.ledger"
    label = "ledger"
