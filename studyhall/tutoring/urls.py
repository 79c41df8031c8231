from django.urls import path

from studyhall.tutoring import booking_views, views

app_name = "tutoring"
urlpatterns = [
    path("", views.sessions, name="sessions"),
    path("list/<str:section>/", views.sessions_section, name="sessions_section"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/dispute/", views.dispute, name="dispute"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("ratings/", views.my_ratings, name="my_ratings"),
    path(
        "<int:pk>/participants/<int:user_id>/remove/",
        views.remove_participant,
        name="remove_participant",
    ),
    # Booking: find a tutor and request, invite, the allowance box, and new times.
    path("book/", booking_views.book, name="book"),
    path("book/request/", booking_views.request_session, name="book_request"),
    path("book/invite/", booking_views.invite, name="book_invite"),
    path("book/allowance/", booking_views.allowance, name="book_allowance"),
    path("<int:pk>/propose/", booking_views.propose, name="propose"),
    path("<int:pk>/proposal/accept/", booking_views.accept_proposal, name="accept_proposal"),
    path("<int:pk>/proposal/decline/", booking_views.decline_proposal, name="decline_proposal"),
    path("<int:pk>/nobody-came/", booking_views.nobody_came, name="nobody_came"),
    path("<int:pk>/tutor-absent/", booking_views.report_absence, name="report_absence"),
]
