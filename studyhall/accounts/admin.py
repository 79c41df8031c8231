from django.contrib import admin

from studyhall.accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["email", "name", "time_zone", "is_support_agent", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    list_filter = ["is_support_agent", "is_staff", "is_active"]
    exclude = ["password"]
