"""What an organization keeps, and for how long (see studyhall.identity.retention)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Presence (who was in the classroom when) decides a session's measured time and the end of
# its call, hence its grace deadline; it is kept at least past the longest grace period.
MIN_PRESENCE_DAYS = 31


class RetentionPolicy(models.Model):
    organization = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, related_name="retention"
    )
    chat_days = models.PositiveIntegerField(
        default=365, help_text="Days a closed support conversation is kept after its last word."
    )
    notification_days = models.PositiveIntegerField(
        default=180, help_text="Days a member's notifications are kept."
    )
    presence_days = models.PositiveIntegerField(
        default=90, help_text="Days the classroom's presence records of a session are kept."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(chat_days__gte=1, chat_days__lte=3650),
                name="retention_chat_days_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(notification_days__gte=1, notification_days__lte=3650),
                name="retention_notification_days_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(presence_days__gte=MIN_PRESENCE_DAYS, presence_days__lte=3650),
                name="retention_presence_days_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Retention of {self.organization_id}"


class Protocol(models.TextChoices):
    SAML = "saml", "SAML 2.0 (Shibboleth, InCommon, ADFS)"
    OIDC = "oidc", "OpenID Connect (Microsoft Entra ID, Google Workspace, Okta)"


class SingleSignOn(models.Model):
    """An organization's campus sign-in. The identity provider itself is an allauth SocialApp
    (`app`: provider "saml" or "openid_connect", one per organization); this row says whose
    it is, which email domains it signs in, which of its attributes mean what, and whether
    passwords still work."""

    organization = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, related_name="single_sign_on"
    )
    app = models.OneToOneField(
        "socialaccount.SocialApp", on_delete=models.PROTECT, related_name="single_sign_on"
    )
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    # Lower-case domains without "@" ("harbor.edu"): sign-in sends these addresses to the
    # provider, and the provider may sign in no one else.
    email_domains = models.JSONField(default=list)
    # The names of the provider's attributes (SAML) or claims (OIDC).
    uid_attribute = models.CharField(
        max_length=200, help_text="The person's stable, never reassigned identifier."
    )
    email_attribute = models.CharField(max_length=200)
    name_attribute = models.CharField(max_length=200, blank=True)
    school_id_attribute = models.CharField(max_length=200, blank=True)
    required = models.BooleanField(
        default=False,
        help_text="Everyone signs in through the campus sign-in; passwords stop working, "
        "except for the break-glass admins.",
    )
    break_glass_admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "single sign-on"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(protocol__in=Protocol.values), name="sso_protocol_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(uid_attribute=""), name="sso_uid_attribute_given"
            ),
        ]

    def __str__(self) -> str:
        return f"Single sign-on of {self.organization_id} ({self.protocol})"
