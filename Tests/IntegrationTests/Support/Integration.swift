import Testing

/// Every integration suite runs inside this one, one test at a time: they start agents, move real
/// traffic and measure it, and on two cores they would disturb each other.
@Suite(.serialized) enum Integration {}
