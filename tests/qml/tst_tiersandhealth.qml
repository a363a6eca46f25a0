import QtQuick
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The Tiers page's inline editors (one PATCH of the tier per saved field, refused values kept
// with the service's message) and the Health page's cards from the report.
Item {
    id: root
    width: 1400
    height: 800

    TiersPage {
        id: tiers
        width: 1400
        height: 400
        dashboard: testDashboard
    }
    HealthPage {
        id: health
        y: 400
        width: 1400
        height: 400
        dashboard: testDashboard
    }

    TestCase {
        name: "TiersAndHealth"
        when: windowShown

        function test_tierLimitSaved() {
            tryCompare(testDashboard.tiers, "count", 2, 5000)
            const rpm = findChild(tiers, "tierField:pro:requests_per_minute")
            verify(rpm, "the pro tier's requests_per_minute editor")
            compare(rpm.text, "1000")
            const before = testSource.editCount()
            rpm.text = "2000"
            rpm.commit()
            tryCompare(rpm, "ticket", -1)
            compare(testSource.editCount(), before + 1)
            const edit = testSource.lastEdit()
            compare(edit.kind, 4)  // DashboardEdit::Kind::PatchTier
            compare(edit.target, "pro")
            compare(edit.body.requests_per_minute, 2000)
        }

        function test_refusedTierValueKeepsTheMessage() {
            tryCompare(testDashboard.tiers, "count", 2, 5000)
            const burst = findChild(tiers, "tierField:free:burst")
            verify(burst)
            testSource.setEditError("burst must be a non-negative integer, got -3")
            burst.text = "-3"
            burst.commit()
            tryVerify(() => burst.error !== "", 5000)
            testSource.setEditError("")
        }

        function test_createTier() {
            tryCompare(testDashboard.tiers, "count", 2, 5000)
            const name = findChild(tiers, "newTierName")
            const create = findChild(tiers, "createTier")
            verify(name && create)
            verify(!create.enabled, "nothing to create without a name")
            // An existing name is refused here, without an edit reaching the gateway.
            const before = testSource.editCount()
            name.forceActiveFocus()
            name.text = "pro"
            keyClick(Qt.Key_Return)
            tryVerify(() => testDashboard.editor.lastError.indexOf("already exists") >= 0, 5000)
            compare(testSource.editCount(), before)
            compare(name.text, "pro")
            // A new name: one PATCH that creates it with every limit inherited; the field clears.
            name.text = "  team  "
            mouseClick(create)
            tryCompare(name, "text", "", 5000)
            compare(testSource.editCount(), before + 1)
            const edit = testSource.lastEdit()
            compare(edit.kind, 4)  // PatchTier
            compare(edit.target, "team")
            compare(Object.keys(edit.body).length, 0)
            // A name the service refuses keeps the text and shows the message.
            testSource.setEditError("name: tier names are 1-64 characters of a-z, 0-9, . _ -")
            name.text = "Bad Name"
            mouseClick(create)
            tryVerify(() => testDashboard.editor.lastError.indexOf("tier names") >= 0, 5000)
            compare(name.text, "Bad Name")
            testSource.setEditError("")
            name.text = ""
        }

        function test_shadowSwitch() {
            tryCompare(testDashboard.tiers, "count", 2, 5000)
            const sw = findChild(tiers, "tierShadow:free")
            verify(sw, "the free tier's shadow switch")
            verify(!sw.checked)
            compare(sw.text, "enforced")
            const before = testSource.editCount()
            mouseClick(sw)
            tryCompare(testDashboard.editor, "busy", false, 5000)
            compare(testSource.editCount(), before + 1)
            const edit = testSource.lastEdit()
            compare(edit.kind, 4)
            compare(edit.target, "free")
            compare(edit.body.shadow, true)
        }

        function test_healthCards() {
            tryCompare(testDashboard.health, "count", 2, 5000)
            compare(testDashboard.health.overall, "degraded")
        }
    }
}
