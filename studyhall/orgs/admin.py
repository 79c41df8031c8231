from django.contrib import admin

from studyhall.orgs.models import (
    Course,
    Enrollment,
    Membership,
    Organization,
    TutorCourse,
    TutorRate,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ["name", "slug", "time_zone", "currency", "grace_hours", "min_recap_chars"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "organization", "role"]
    list_filter = ["organization", "role"]
    raw_id_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin[Course]):
    list_display = ["code", "title", "organization"]
    list_filter = ["organization"]


@admin.register(TutorRate)
class TutorRateAdmin(admin.ModelAdmin[TutorRate]):
    list_display = ["tutor", "organization", "hourly_rate_cents"]
    raw_id_fields = ["tutor"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin[Enrollment]):
    """Who takes which course: students book tutors for their own courses."""

    list_display = ["student", "course", "created_at"]
    list_filter = ["course__organization", "course"]
    raw_id_fields = ["student"]
    search_fields = ["student__email", "student__name", "course__code"]


@admin.register(TutorCourse)
class TutorCourseAdmin(admin.ModelAdmin[TutorCourse]):
    """Which tutors are approved for which course."""

    list_display = ["tutor", "course", "created_at"]
    list_filter = ["course__organization", "course"]
    raw_id_fields = ["tutor"]
    search_fields = ["tutor__email", "tutor__name", "course__code"]
