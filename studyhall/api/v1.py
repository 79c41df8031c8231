from ninja import NinjaAPI

api = NinjaAPI(title="Studyhall API", version="1", urls_namespace="api-v1")
