from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted by the application."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted; use purge_audit_log for retention")

    def _purge_before(self, cutoff) -> int:
        """Retention only (purge_audit_log): the one way rows leave the table."""
        return models.QuerySet.delete(self.filter(at__lt=cutoff))[0]


class AuditEvent(models.Model):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    VIEW = "view"
    DOWNLOAD = "download"
    EXPORT = "export"
    SUBMIT = "submit"
    CORRECT = "correct"  # a correction of a firm's identifying data (its USCC), with old and new value in detail
    IMPORT = "import"  # an import of the business register, with its counts in detail
    ACTION_CHOICES = [
        (LOGIN, _("登录")),
        (LOGIN_FAILED, _("登录失败")),
        (LOGOUT, _("退出")),
        (VIEW, _("查看")),
        (DOWNLOAD, _("下载")),
        (EXPORT, _("导出")),
        (SUBMIT, _("提交")),
        (CORRECT, _("更正")),
        (IMPORT, _("导入")),
    ]

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text as well: the event must still say who it was after the account is deleted.
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=ACTION_CHOICES)
    target = models.CharField(_("对象"), max_length=100, blank=True)  # e.g. "assessment:12", "export:csv"
    enterprise_id = models.BigIntegerField(_("企业ID"), null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    success = models.BooleanField(_("成功"), default=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        permissions = [("view_audit_log", "Can read the audit log")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")
