from django.urls import path

from studyhall.console.views import (
    courses,
    home,
    no_shows,
    people,
    policy,
    programs,
    roster,
    sessions,
)

app_name = "console"
# Every URL but the index takes the organization as `org_id`; the access matrix test walks
# this list, so a new page is checked for who may see it the day it is added.
urlpatterns = [
    path("", home.index, name="index"),
    path("<int:org_id>/", home.home, name="home"),
    path("<int:org_id>/sessions/", sessions.sessions, name="sessions"),
    path("<int:org_id>/sessions/new/", sessions.new_session, name="session_new"),
    path("<int:org_id>/sessions/<int:session_id>/cancel/", sessions.cancel, name="session_cancel"),
    path(
        "<int:org_id>/sessions/<int:session_id>/absence/",
        no_shows.absence,
        name="session_absence",
    ),
    path("<int:org_id>/people/", people.people, name="people"),
    path("<int:org_id>/people/<int:user_id>/", people.person, name="person"),
    path("<int:org_id>/people/<int:user_id>/roles/", people.roles, name="person_roles"),
    path(
        "<int:org_id>/people/<int:user_id>/invitation/",
        people.resend_invitation,
        name="person_invitation",
    ),
    path("<int:org_id>/people/<int:user_id>/rate/", people.rate, name="person_rate"),
    path(
        "<int:org_id>/people/<int:user_id>/employee-id/",
        people.employee_id,
        name="person_employee_id",
    ),
    path(
        "<int:org_id>/people/<int:user_id>/deactivate/", people.deactivate, name="person_deactivate"
    ),
    path(
        "<int:org_id>/people/<int:user_id>/reactivate/", people.reactivate, name="person_reactivate"
    ),
    path(
        "<int:org_id>/people/<int:user_id>/suspension/lift/",
        no_shows.lift_suspension,
        name="person_lift_suspension",
    ),
    path("<int:org_id>/courses/", courses.courses, name="courses"),
    path("<int:org_id>/courses/<int:course_id>/", courses.course, name="course"),
    path("<int:org_id>/courses/<int:course_id>/archive/", courses.archive, name="course_archive"),
    path("<int:org_id>/courses/<int:course_id>/enroll/", courses.enroll, name="course_enroll"),
    path(
        "<int:org_id>/courses/<int:course_id>/approval/", courses.approval, name="course_approval"
    ),
    path("<int:org_id>/approvals/", courses.approvals, name="approvals"),
    path("<int:org_id>/programs/", programs.programs, name="programs"),
    path("<int:org_id>/programs/<int:program_id>/", programs.program, name="program"),
    path(
        "<int:org_id>/programs/<int:program_id>/archive/", programs.archive, name="program_archive"
    ),
    path(
        "<int:org_id>/programs/<int:program_id>/students/",
        programs.students,
        name="program_students",
    ),
    path(
        "<int:org_id>/programs/<int:program_id>/students/<int:user_id>/remove/",
        programs.remove_student,
        name="program_student_remove",
    ),
    path("<int:org_id>/roster/", roster.roster, name="roster"),
    path("<int:org_id>/roster/<int:import_id>/", roster.roster_import, name="roster_import"),
    path("<int:org_id>/roster/<int:import_id>/apply/", roster.roster_apply, name="roster_apply"),
    path(
        "<int:org_id>/roster/<int:import_id>/progress/",
        roster.roster_progress,
        name="roster_progress",
    ),
    path("<int:org_id>/policy/", policy.policy, name="policy"),
]
