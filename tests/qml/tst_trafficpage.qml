import QtQuick
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The Traffic page: the latest requests from the model (a 429 among them), the rate-limit
// violations and quota alerts below, and what both lists say while empty.
Item {
    id: root
    width: 1052
    height: 724

    TrafficPage {
        id: page
        anchors.fill: parent
        dashboard: testDashboard
    }
    TrafficPage {
        id: empty
        visible: false
        width: 1052
        height: 724
        dashboard: emptyDashboard
    }

    TestCase {
        name: "TrafficPage"
        when: windowShown

        function test_requestsAppearFromTheModel() {
            const tail = findChild(page, "trafficTable")
            verify(tail)
            tryCompare(tail, "count", 3, 5000)
            compare(testDashboard.traffic.rateLimitedCount, 1)
            // The dashboard polls every second and the list may be mid-refresh: wait, do not sample.
            tryCompare(findChild(page, "trafficEmpty"), "visible", false)
            tryVerify(() => tail.itemAtIndex(0) !== null)
            const first = tail.itemAtIndex(0)
            compare(first.method, "POST")
            compare(first.path, "/v1/chat/completions")
            compare(first.status, 200)
            tryCompare(first, "user", "alice")  // the user's name, not its id
            compare(tail.itemAtIndex(1).status, 429)
            tryCompare(tail.itemAtIndex(2), "key", "ci")  // the key's name
        }

        function test_violationsAndQuotaAlerts() {
            const events = findChild(page, "limitEventsTable")
            verify(events)
            tryCompare(events, "count", 3, 5000)
            compare(testDashboard.limitEvents.alertCount, 1)
            tryCompare(findChild(page, "limitEventsEmpty"), "visible", false)
            const kinds = []
            const limits = []
            for (let i = 0; i < events.count; ++i) {
                const row = events.itemAtIndex(i)
                verify(row, "row " + i)
                kinds.push(row.kind)
                limits.push(row.limitName)
            }
            compare(kinds.filter(k => k === "violation").length, 2)
            compare(kinds.filter(k => k === "alert").length, 1)
            verify(limits.indexOf("requests_per_minute") >= 0, limits.join(","))
            verify(limits.indexOf("monthly_requests") >= 0, limits.join(","))
            // Who: user and key by name.
            const rpm = events.itemAtIndex(limits.indexOf("requests_per_minute"))
            tryVerify(() => rpm.who.indexOf("alice") >= 0, 5000, rpm.who)
            verify(rpm.detail.indexOf("3") >= 0, rpm.detail)
        }

        function test_emptyStatesSayWhatWillAppear() {
            tryVerify(() => emptyDashboard.keys.loaded, 5000)
            page.visible = false
            empty.visible = true
            const tail = findChild(empty, "trafficTable")
            const events = findChild(empty, "limitEventsTable")
            compare(tail.count, 0)
            compare(events.count, 0)
            const noTraffic = findChild(empty, "trafficEmpty")
            const noEvents = findChild(empty, "limitEventsEmpty")
            verify(noTraffic.visible)
            verify(noEvents.visible)
            verify(noTraffic.text.indexOf("/v1 will appear here") >= 0, noTraffic.text)
            verify(noEvents.text.indexOf("No request has been refused") >= 0, noEvents.text)
            empty.visible = false
            page.visible = true
        }
    }
}
