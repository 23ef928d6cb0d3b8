from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from .models import TEACHERS_GROUP, Room, TeacherRequest


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "teacher", "status", "size", "created")
    list_filter = ("status",)
    search_fields = ("name", "code", "teacher__username")
    readonly_fields = ("code", "created", "started", "closed")


@admin.action(description=gettext_lazy("Approve: add to the teachers group"))
def approve(modeladmin, request, queryset):
    teachers, _created = Group.objects.get_or_create(name=TEACHERS_GROUP)
    count = 0
    for teacher_request in queryset.select_related("user"):
        teacher_request.user.groups.add(teachers)
        if teacher_request.approved is None:
            teacher_request.approved = timezone.now()
            teacher_request.save(update_fields=["approved"])
        count += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)s teacher approved.", "%(count)s teachers approved.", count)
        % {"count": count},
        messages.SUCCESS,
    )


@admin.register(TeacherRequest)
class TeacherRequestAdmin(admin.ModelAdmin):
    list_display = ("user", "school", "created", "approved")
    list_filter = ("approved",)
    search_fields = ("user__username", "school")
    actions = [approve]
