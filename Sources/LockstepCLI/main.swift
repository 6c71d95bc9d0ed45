import Coordinator

// `lockstep`: everything it does lives in the Coordinator library.
await LockstepCommand.start()
