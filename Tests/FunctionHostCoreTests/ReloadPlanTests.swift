import Testing

@testable import FunctionHostCore

@Suite struct ReloadPlanTests {
    let plan = ReloadPlan(
        templates: ["/app/template.yaml"],
        functions: [
            {
                var function = FunctionConfiguration(
                    logicalID: "A", runtime: .python(minor: 12), handler: "app.handler", codeDirectory: "/app/a")
                function.layers = ["/app/layers/shared"]
                return function
            }(),
            FunctionConfiguration(
                logicalID: "B", runtime: .python(minor: 12), handler: "app.handler", codeDirectory: "/app/b"),
            FunctionConfiguration(
                logicalID: "AlsoA", runtime: .python(minor: 12), handler: "h", codeDirectory: "/app/a"),
            {
                var function = FunctionConfiguration(
                    logicalID: "Zipped", runtime: .python(minor: 12), handler: "h", codeDirectory: "/app/z")
                function.layers = ["/app/dist/layer.zip"]
                return function
            }(),
        ])

    @Test func watchesCodeLayersAndTheTemplatesDirectoryOnce() {
        #expect(plan.watchedDirectories == ["/app/a", "/app/layers/shared", "/app/b", "/app/z", "/app/dist", "/app"])
    }

    @Test func aCodeChangeDrainsEveryFunctionOfThatDirectory() {
        let actions = plan.actions(for: ["/app/a/app.py", "/app/a/lib/util.py"])
        #expect(actions.drain == ["A", "AlsoA"])
        #expect(!actions.layersChanged)
        #expect(!actions.templateChanged)
    }

    @Test func aLayerChangeDrainsItsUsersAndRebuildsLayers() {
        let actions = plan.actions(for: ["/app/layers/shared/python/x.py"])
        #expect(actions.drain == ["A"])
        #expect(actions.layersChanged)
        #expect(plan.actions(for: ["/app/dist/layer.zip"]).drain == ["Zipped"])
    }

    @Test func theTemplateAndNoiseAreToldApart() {
        let template = plan.actions(for: ["/app/template.yaml"])
        #expect(template.templateChanged)
        #expect(template.drain.isEmpty)
        #expect(!template.isEmpty)
        let noise = plan.actions(for: [
            "/app/a/__pycache__/app.cpython-312.pyc", "/app/a/.app.py.swp", "/app/a/app.py~",
        ])
        #expect(noise.isEmpty)
        #expect(plan.actions(for: ["/app/ab/file", "/app/README.md"]).isEmpty)
    }

    @Test func theStateDirectoryInsideACodeDirectoryIsIgnored() {
        let function = FunctionConfiguration(
            logicalID: "Here", runtime: .python(minor: 12), handler: "h", codeDirectory: "/app")
        let plan = ReloadPlan(templates: ["/app/template.yaml"], functions: [function], ignoring: ["/app/.fnhost"])
        #expect(plan.actions(for: ["/app/.fnhost/logs/Here.log", "/app/.fnhost/layers/x/y"]).isEmpty)
        #expect(plan.actions(for: ["/app/app.py"]).drain == ["Here"])
    }
}
