"""`python manage.py grant_teacher USERNAME [--revoke]`: put an account in the
teachers group (or take it out), for an operator without the admin site at hand."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.models import TEACHERS_GROUP, TeacherRequest


class Command(BaseCommand):
    help = "Grant (or with --revoke, take back) teacher access: creating and running rooms."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="take teacher access back")

    def handle(self, *args, username: str, revoke: bool, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no account is called {username!r}; create it first (sign up)")
        teachers, _ = Group.objects.get_or_create(name=TEACHERS_GROUP)
        if revoke:
            user.groups.remove(teachers)
            self.stdout.write(f"{username} is no longer a teacher")
            return
        user.groups.add(teachers)
        TeacherRequest.objects.filter(user=user, approved__isnull=True).update(
            approved=timezone.now()
        )
        self.stdout.write(f"{username} is a teacher: they can create rooms at /rooms/")
