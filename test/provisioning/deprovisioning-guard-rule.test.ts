import { decideDeactivations, GUARD_DEFAULTS, type GuardSettings } from '../../src/provisioning/deprovisioning-guard'

// The deprovisioning guard's rule, cell by cell: settings, provisioned app users, deactivations
// already in the window, new ones -> how many pass and how many are held.

const guard = (settings: Partial<GuardSettings>): GuardSettings => ({ ...GUARD_DEFAULTS, ...settings })
const off = guard({ maxCount: null, maxPercent: null })

test.each`
  case                                                   | settings                                     | provisioned | inWindow | incoming | pass    | held
  ${'under the count: all pass'}                         | ${guard({ maxCount: 3 })}                    | ${10}       | ${0}     | ${2}     | ${2}    | ${0}
  ${'exactly at the count: all pass'}                    | ${guard({ maxCount: 3 })}                    | ${10}       | ${0}     | ${3}     | ${3}    | ${0}
  ${'past the count: the excess is held'}                | ${guard({ maxCount: 3 })}                    | ${10}       | ${0}     | ${5}     | ${3}    | ${2}
  ${'the window already used part of the count'}         | ${guard({ maxCount: 3 })}                    | ${10}       | ${2}     | ${3}     | ${1}    | ${2}
  ${'the window used all of the count: all held'}        | ${guard({ maxCount: 3 })}                    | ${10}       | ${3}     | ${1}     | ${0}    | ${1}
  ${'a window past the count holds all, never negative'} | ${guard({ maxCount: 3 })}                    | ${10}       | ${7}     | ${2}     | ${0}    | ${2}
  ${'maxCount 0: every deactivation needs approval'}     | ${guard({ maxCount: 0, maxPercent: null })}  | ${500}      | ${0}     | ${1}     | ${0}    | ${1}
  ${'percent on an app of exactly 100: 20 pass'}         | ${guard({ maxCount: null, maxPercent: 20 })} | ${100}      | ${0}     | ${25}    | ${20}   | ${5}
  ${'percent rounds down (20% of 104 is 20)'}            | ${guard({ maxCount: null, maxPercent: 20 })} | ${104}      | ${0}     | ${21}    | ${20}   | ${1}
  ${'percent ignored below 100 provisioned'}             | ${guard({ maxCount: null, maxPercent: 20 })} | ${99}       | ${0}     | ${99}    | ${99}   | ${0}
  ${'below 100, only the count holds'}                   | ${guard({ maxCount: 10, maxPercent: 1 })}    | ${99}       | ${0}     | ${12}    | ${10}   | ${2}
  ${'the lower limit wins: percent under count'}         | ${guard({ maxCount: 500, maxPercent: 20 })}  | ${1000}     | ${150}   | ${100}   | ${50}   | ${50}
  ${'the lower limit wins: count under percent'}         | ${guard({ maxCount: 30, maxPercent: 20 })}   | ${1000}     | ${0}     | ${100}   | ${30}   | ${70}
  ${'defaults: a small app is held past 500'}            | ${GUARD_DEFAULTS}                            | ${50}       | ${0}     | ${600}   | ${500}  | ${100}
  ${'off: both limits null, nothing is held'}            | ${off}                                       | ${1000}     | ${900}   | ${5000}  | ${5000} | ${0}
  ${'nothing incoming: nothing to decide'}               | ${guard({ maxCount: 3 })}                    | ${10}       | ${9}     | ${0}     | ${0}    | ${0}
`('$case', ({ settings, provisioned, inWindow, incoming, pass, held }) => {
  expect(decideDeactivations({ settings, provisioned, inWindow, incoming })).toEqual({ pass, held })
})
