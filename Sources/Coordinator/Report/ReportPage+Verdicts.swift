import Foundation
import Shared

extension ReportPage {
    /// The verdicts: each step of each run with `valid` or `suspect` and the checks that failed, then
    /// one line per check saying what it asks (``StepCheck/Name/explanation``).
    func verdicts() -> SVGNode {
        var rows: [SVGNode] = [ReportFigures.row(["run", "step", "verdict", "failed checks"], header: true)]
        for run in runs {
            for step in run.info?.steps ?? [] where step.status == .complete {
                let failed = (step.checks ?? []).filter { !$0.passed }
                rows.append(
                    .element(
                        "tr", step.verdict == .suspect ? [("class", "suspect")] : [],
                        [
                            .element("td", [], [.text(run.name)]), .element("td", [], [.text(step.id)]),
                            .element("td", [], [.text(step.verdict?.rawValue ?? "-")]),
                            .element("td", [], [.text(failed.map(\.summary).joined(separator: "; "))]),
                        ]))
            }
        }
        let checks = StepCheck.Name.allCases.map { name in
            SVGNode.element("li", [], [.element("b", [], [.text(name.rawValue)]), .text(": " + name.explanation)])
        }
        return .element(
            "section", [("id", "verdicts")],
            [
                .element("h2", [], [.text("Verdicts: how far to trust each step")]),
                .element(
                    "p", [],
                    [
                        .text(
                            "A step is valid when every check passed; a suspect step's bars are grey, with the failed checks on hover. `lockstep check DIR` computes them again."
                        )
                    ]),
                .element("table", [("class", "numbers")], rows), .element("ul", [], checks),
            ])
    }
}
