from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One background job. Its row is the only record of the job: the worker writes progress here, the job
    page reads it (there is no Celery result backend)."""

    KIND_REPORTS_ZIP = "reports_zip"
    KIND_ANSWERS = "answers"
    KIND_REGISTER = "register"
    KIND_RESCORE = "rescore"
    KIND_CHOICES = [
        (KIND_REPORTS_ZIP, _("企业报告 ZIP")),
        (KIND_ANSWERS, _("全部答案导出")),
        (KIND_REGISTER, _("工商登记名单导入")),
        (KIND_RESCORE, _("按更正后的规则重新计算结果")),
    ]

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATE_CHOICES = [
        (QUEUED, _("排队中")),
        (RUNNING, _("进行中")),
        (DONE, _("已完成")),
        (FAILED, _("失败")),
        (CANCELLED, _("已取消")),
    ]
    ENDED = (DONE, FAILED, CANCELLED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    username = models.CharField(_("发起人"), max_length=150)
    kind = models.CharField(_("类型"), max_length=16, choices=KIND_CHOICES)
    # The filters (query items), format and language the job was started with; the worker works from these.
    parameters = models.JSONField(_("参数"), default=dict)
    # The firms the job may read: the whole city, or these districts (the starter's scope, narrowed by the
    # district filter). Only administrators whose scope covers it see the job and its file.
    scope_all = models.BooleanField(_("全市"), default=False)
    scope_districts = models.JSONField(_("区县"), default=list)
    state = models.CharField(_("状态"), max_length=10, choices=STATE_CHOICES, default=QUEUED, db_index=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # Items (firms) that failed while the job went on: [{"id", "name", "uscc", "code"}].
    failed_items = models.JSONField(default=list)
    result_path = models.CharField(max_length=255, blank=True)  # relative to MEDIA_ROOT; "" until complete
    result_name = models.CharField(max_length=255, blank=True)  # the download's file name
    result_size = models.BigIntegerField(default=0)
    # The error as a code and its parameters, shown in the reader's language (selectors.job_error_text).
    error_code = models.CharField(max_length=32, blank=True)
    error_params = models.JSONField(default=dict)
    # Each claim by a worker starts a new attempt; work of an older attempt (a redelivered message) is ignored.
    attempt = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_finished = models.JSONField(default=list)  # indexes of the chunks counted in chunks_done
    # What the job did, for the page (a register import's counts).
    summary = models.JSONField(default=dict)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} {self.state}"
