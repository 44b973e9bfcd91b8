from surveys.reports import assessment_pdf, build_assessment_report

def test_dump(firm_round, hostile_round):
    for lang in ("zh-hans", "en"):
        name, mime, data = assessment_pdf(assessment=firm_round, language=lang)
        __import__("pathlib").Path(f"/tmp/report-{lang}.pdf").write_bytes(data)
        print(name, len(data))
    name, mime, data = assessment_pdf(assessment=hostile_round, language="zh-hans")
    __import__("pathlib").Path("/tmp/report-hostile.pdf").write_bytes(data)
    print(name)
