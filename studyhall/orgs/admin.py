from django.contrib import admin

from studyhall.orgs.models import Course, Membership, Organization, TutorRate


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "currency", "grace_hours", "min_recap_chars"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["organization", "role"]
    raw_id_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "organization"]
    list_filter = ["organization"]


@admin.register(TutorRate)
class TutorRateAdmin(admin.ModelAdmin):
    list_display = ["tutor", "organization", "hourly_rate_cents"]
    raw_id_fields = ["tutor"]
