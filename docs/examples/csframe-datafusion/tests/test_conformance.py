"""csframe's adapter conformance suite on this adapter: the one line a third party writes."""

from csframe.testing.conformance import AdapterConformance


class TestDataFusion(AdapterConformance):
    engine = "datafusion"
