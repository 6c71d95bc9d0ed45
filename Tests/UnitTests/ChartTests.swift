import Foundation
import Testing

@testable import Coordinator

/// The report's drawing as values: scales, ticks, bars, whiskers, lines and bands at the
/// coordinates known data must give (worked by hand below), and the statistics `compare` uses.
@Suite struct ChartTests {
    @Test func aLinearScaleMapsAndTicksAtNiceSteps() {
        let y = LinearScale(domain: (0, 100), range: (250, 50))
        #expect(y(0) == 250 && y(50) == 150 && y(100) == 50)
        #expect(y.ticks(5) == [0, 20, 40, 60, 80, 100])
        #expect(LinearScale.niceStep(0.37) == 0.5)
        #expect(LinearScale.niceStep(9.45) == 10)
        #expect(LinearScale.niceStep(1.6) == 2)
        #expect(LinearScale.fromZero(to: 93) == (0, 100))
        #expect(LinearScale.fromZero(to: 47.25) == (0, 50))
        #expect(LinearScale(domain: (0, 1.5), range: (0, 1)).ticks(3) == [0, 0.5, 1, 1.5])
    }

    @Test func thePercentileAxisSpreadsNinesEvenly() {
        #expect(PercentileAxis.position(0) == 0)
        #expect(abs(PercentileAxis.position(90) - 1) < 1e-12)
        #expect(abs(PercentileAxis.position(99) - 2) < 1e-12)
        #expect(abs(PercentileAxis.position(99.9) - 3) < 1e-9)
        #expect(PercentileAxis.ticks(upTo: 99.9).map(\.label) == ["0%", "90%", "99%", "99.9%"])
    }

    @Test func barsAndWhiskersStandWhereTheDataSays() {
        // Plot area 64...624 x 50...256; the top bar (45) rounds the axis up to 50.
        let chart = BarChart(
            title: "t", yLabel: "us", groups: ["A", "B"], series: ["x", "y"],
            bars: [
                [.init(value: 10, low: 8, high: 12, note: "A x"), .init(value: 20, low: nil, high: nil, note: "A y")],
                [nil, .init(value: 40, low: 35, high: 45, note: "B y")],
            ])
        #expect(chart.yScale.domain == (0, 50))
        let svg = chart.svg()
        let bars = svg.elements("rect").filter { $0["class"] == "bar" }
        #expect(bars.count == 3, "no bar where a series has no value")
        // Group width 280, bars in its middle 80%: 112 wide, each drawn 1 px in from its slot.
        #expect(bars[0]["x"] == "93" && bars[0]["width"] == "110")
        #expect(bars[0]["y"] == "214.8" && bars[0]["height"] == "41.2")
        #expect(bars[1]["x"] == "205" && bars[1]["y"] == "173.6")
        #expect(bars[2]["x"] == "485" && bars[2]["y"] == "91.2" && bars[2]["height"] == "164.8")
        #expect(bars[0].elements("title").first?.textContent == "A x")
        // Whiskers: the interval at the bar's centre, with caps.
        let whiskers = svg.all.filter { $0["class"] == "whisker" }
        #expect(whiskers.count == 2)
        let stem = whiskers[0].elements("line")[0]
        #expect(stem["x1"] == "148" && stem["x2"] == "148" && stem["y1"] == "223.04" && stem["y2"] == "206.56")
        let cap = whiskers[0].elements("line")[1]
        #expect(cap["x1"] == "142" && cap["x2"] == "154" && cap["y1"] == "206.56")
        // Gridlines at 0, 10, ..., 50 and their labels.
        let labels = svg.elements("text").filter { $0["class"] == "tick" }.map(\.textContent)
        #expect(labels.prefix(6) == ["0", "10", "20", "30", "40", "50"])
        #expect(labels.suffix(2) == ["A", "B"])
        #expect(svg.elements("g").first { $0["class"] == "legend" }?.elements("text").map(\.textContent) == ["x", "y"])
    }

    @Test func linesAndBandsFollowThePoints() {
        let chart = LineChart(
            title: "t", xLabel: "connections", yLabel: "ops/s",
            series: [
                .init(
                    name: "native",
                    points: [
                        .init(x: 1, y: 10, low: 8, high: 12, note: "1"),
                        .init(x: 2, y: 20, low: 18, high: 22, note: "2"),
                    ])
            ])
        // x: 0...2 onto 64...616; y: 0...25 onto 256...50.
        let svg = chart.svg()
        let line = try! #require(svg.elements("polyline").first)
        #expect(line["points"] == "340,173.6 616,91.2")
        let band = try! #require(svg.elements("path").first { $0["class"] == "band" })
        #expect(band["d"] == "M340,157.12 L616,74.72 L616,107.68 L340,190.08 Z")
        #expect(svg.elements("circle").map { $0["cx"] } == ["340", "616"])
        // No band for a series without intervals.
        let plain = LineChart(
            title: "t", xLabel: "x", yLabel: "y",
            series: [.init(name: "a", points: [.init(x: 1, y: 1, low: nil, high: nil, note: "")])])
        #expect(plain.svg().elements("path").isEmpty)
    }

    @Test func markupIsEscapedAndNumbersAreShort() {
        let node = SVGNode.element("text", [("title", "a \"b\" <c>")], [.text("x < y & z")])
        #expect(node.render() == "<text title=\"a &quot;b&quot; &lt;c&gt;\">x &lt; y &amp; z</text>")
        #expect(
            svgNumber(12.0) == "12" && svgNumber(1.006) == "1.01" && svgNumber(2.5) == "2.5"
                && svgNumber(203.20000001) == "203.2")
        #expect(SVGNode.element("line", [("x1", "0")]).render() == "<line x1=\"0\"/>")
        #expect(SVGNode.element("td").render() == "<td></td>")
    }

    @Test func welchsTestMatchesValuesWorkedOutside() throws {
        // scipy.stats.ttest_ind(b, a, equal_var=False): t 3.286335, df 6, p 0.0166900.
        let a = try #require(Statistics.summary([10, 12, 11, 13], level: 0.95))
        let b = try #require(Statistics.summary([14, 15, 13, 16], level: 0.95))
        let test = try #require(Statistics.welch(a, b))
        #expect(abs(test.t - 3.286335345) < 1e-6)
        #expect(abs(test.df - 6) < 1e-9)
        #expect(abs(test.p - 0.016689984) < 1e-6)
        // Unequal sizes and variances: t 0.217738, df 3.720128, p 0.839048.
        let c = try #require(Statistics.summary([100, 102, 98], level: 0.95))
        let d = try #require(Statistics.summary([101, 99.5, 100.5, 102.5, 98], level: 0.95))
        let other = try #require(Statistics.welch(c, d))
        #expect(abs(other.t - 0.217738395) < 1e-6)
        #expect(abs(other.df - 3.720127520) < 1e-6)
        #expect(abs(other.p - 0.839048422) < 1e-5)
        // One value on a side: no test.
        #expect(Statistics.welch(try #require(Statistics.summary([1], level: 0.95)), d) == nil)
    }

    @Test func theDirectionOfWorseDependsOnTheMetric() {
        #expect(Comparison.lowerIsBetter("latency_mean_us"))
        #expect(Comparison.lowerIsBetter("sut_cpu_us_per_op"))
        #expect(Comparison.lowerIsBetter("host_cycles_per_byte"))
        #expect(!Comparison.lowerIsBetter("transactions_per_sec"))
        #expect(!Comparison.lowerIsBetter("goodput_gbps"))
    }
}
