import Testing

@testable import FunctionHostSupervisor

/// A worker initialises with at least a whole CPU's share and settles at its memory's share.
@Suite struct CPUShareTests {
    @Test func aSmallFunctionInitialisesWithAWholeCPUAndSettlesAtItsMemorysShare() {
        let shares = CPUShare.sharesSetting(file: "cpu.shares", memoryMegabytes: 128)
        #expect(shares.initial == 1024 && shares.value == 74)
        let weight = CPUShare.weightSetting(file: "cpu.weight", memoryMegabytes: 128)
        #expect(weight.initial == 100 && weight.value == 7)
    }

    @Test func aFunctionOfMoreThanOneCPUKeepsItsShareThroughout() {
        let shares = CPUShare.sharesSetting(file: "cpu.shares", memoryMegabytes: 3538)
        #expect(shares.initial == 2048 && shares.value == 2048)
        let weight = CPUShare.weightSetting(file: "cpu.weight", memoryMegabytes: 10240)
        #expect(weight.initial == 578 && weight.value == 578)
    }
}
