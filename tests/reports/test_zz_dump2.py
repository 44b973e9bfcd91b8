import dataclasses, pathlib
from surveys.reports import build_assessment_report, render_assessment_pdf

def test_dump_long(firm_round):
    report = build_assessment_report(assessment=firm_round, language="zh-hans")
    long_note = ("很长的备注" * 10 + "ABCDEFGHIJ" * 5) * 4  # 400 chars
    dims = [dataclasses.replace(d, answers=[dataclasses.replace(a, note=(long_note * 3)[:1000]) for a in d.answers]) for d in report.dimensions]
    report = dataclasses.replace(report, dimensions=dims, enterprise_name="济" * 100)
    name, mime, data = render_assessment_pdf(report)
    pathlib.Path("/tmp/report-long.pdf").write_bytes(data)
