import Glibc

/// The pipe that ties every worker's life to the host's: the host holds the only write end
/// (close-on-exec), each launcher watches the read end, and when the host dies, even by
/// `kill -9`, the kernel closes the write end and every launcher kills its worker tree.
public enum Lifeline {
    /// The read end to hand to launchers. Created once per process; never closed.
    public static let readDescriptor: Int32 = {
        guard let ends = makeClosedOnExecPipe() else { fatalError("cannot create the lifeline pipe") }
        return ends.read
    }()
}
