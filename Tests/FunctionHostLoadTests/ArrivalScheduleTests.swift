import Testing

@testable import FunctionHostLoad

@Suite struct ArrivalScheduleTests {
    @Test func constantRateSpacesArrivalsEvenly() {
        let schedule = ArrivalSchedule(rate: 200)
        #expect(schedule.offset(ofArrival: 0) == 0)
        #expect(abs(schedule.offset(ofArrival: 1) - 0.005) < 1e-12)
        #expect(abs(schedule.offset(ofArrival: 2000) - 10) < 1e-9)
        #expect(schedule.arrivals(by: 1) == 201)  // 0 ... 1.0 inclusive
    }

    @Test func rampRisesLinearlyThenHoldsTheRate() {
        let schedule = ArrivalSchedule(rate: 100, ramp: 10)
        // During the ramp the cumulative count is 100·t²/20: 5 by 1 s, 125 by 5 s, 500 by 10 s.
        #expect(abs(schedule.offset(ofArrival: 5) - 1) < 1e-9)
        #expect(abs(schedule.offset(ofArrival: 125) - 5) < 1e-9)
        #expect(abs(schedule.offset(ofArrival: 500) - 10) < 1e-9)
        // After it, 100 per second.
        #expect(abs(schedule.offset(ofArrival: 600) - 11) < 1e-9)
        // The instantaneous rate at 5 s is half the target: 50 arrivals in the second around it.
        let around = schedule.arrivals(by: 5.5) - schedule.arrivals(by: 4.5)
        #expect(around == 50)
    }

    @Test func offsetsNeverGoBackwards() {
        let schedule = ArrivalSchedule(rate: 37.5, ramp: 3)
        var previous = -1.0
        for index in 0..<1000 {
            let offset = schedule.offset(ofArrival: index)
            #expect(offset >= previous)
            previous = offset
        }
    }

    @Test func closedLoopClientsStartAcrossTheRamp() {
        #expect(ArrivalSchedule.clientStart(0, of: 10, ramp: 10) == 0)
        #expect(ArrivalSchedule.clientStart(5, of: 10, ramp: 10) == 5)
        #expect(ArrivalSchedule.clientStart(9, of: 10, ramp: 0) == 0)
    }
}
