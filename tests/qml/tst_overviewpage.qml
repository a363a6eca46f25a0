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
            const requests = findChild(page, "chart:requests")
            verify(requests, "the requests series")
            tryVerify(() => requests.count === testDashboard.overview.pointCount)
            const p95 = findChild(page, "chart:p95")
            verify(p95)
            tryVerify(() => p95.count > 100)
            compare(findChild(page, "chart:tokens").count, testDashboard.overview.pointCount)
        }

        function test_rangeButtons() {
            testDashboard.overview.rangeMinutes = 15
            compare(testDashboard.overview.rangeMinutes, 15)
            tryVerify(() => testDashboard.overview.rangeEndMs - testDashboard.overview.rangeStartMs === 15 * 60000)
            testDashboard.overview.rangeMinutes = 5
        }

        function test_headlineUsesSeparators() {
            tryCompare(testDashboard.overview, "requestsToday", 12345)
            compare(Fmt.count(testDashboard.overview.requestsToday), Qt.locale().toString(12345, 'f', 0))
        }

        function test_emptyChartsExplain() {
            wait(100)
            compare(emptyDashboard.overview.hasTraffic, false)
        }
    }
}
