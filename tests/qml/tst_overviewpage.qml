import QtQuick
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The Overview page's charts fill from the model, the range buttons change the range, the
// headline shows separators, and an empty dashboard says what will appear.
Item {
    id: root
    width: 1200
    height: 900

    OverviewPage {
        id: page
        anchors.fill: parent
        dashboard: testDashboard
    }
    OverviewPage {
        id: emptyPage
        visible: false
        width: 1200
        height: 900
        dashboard: emptyDashboard
    }

    TestCase {
        name: "OverviewPage"
        when: windowShown

        function test_chartsShowTheSeries() {
            tryVerify(() => testDashboard.overview.pointCount > 100, 5000)
            const chart = findChild(page, "metricChart:requests")
            verify(chart, "the requests chart")
            const requests = chart.firstSeries
            compare(requests.objectName, "chart:requests")
            tryVerify(() => requests.count === testDashboard.overview.pointCount)
            const p95 = findChild(page, "metricChart:p50_ms").secondSeries
            compare(p95.objectName, "chart:p95_ms")
            tryVerify(() => p95.count > 100)
            compare(findChild(page, "metricChart:tokens").firstSeries.count, testDashboard.overview.pointCount)
        }

        function test_rangeButtons() {
            testDashboard.overview.rangeMinutes = 15
            compare(testDashboard.overview.rangeMinutes, 15)
            tryVerify(() => testDashboard.overview.rangeEndMs - testDashboard.overview.rangeStartMs === 15 * 60000)
            testDashboard.overview.rangeMinutes = 5
        }

        function test_headlineUsesSeparators() {
            tryCompare(testDashboard.overview, "requestsToday", 12345)
            compare(Fmt.count(testDashboard.overview.requestsToday), Number(12345).toLocaleString(Qt.locale(), 'f', 0))
        }

        function test_emptyChartsExplain() {
            wait(100)
            compare(emptyDashboard.overview.hasTraffic, false)
        }
    }
}
