import CSocketOwner
import Glibc
import NIOCore

/// The far end of an accepted loopback TCP connection, and which uid owns its socket.
struct LoopbackPeer {
    var local: sockaddr_in
    var remote: sockaddr_in

    /// `nil` unless both ends are IPv4 addresses (the Runtime API listens on 127.0.0.1 only).
    init?(_ channel: any Channel) {
        guard case .v4(let local) = channel.localAddress, case .v4(let remote) = channel.remoteAddress else { return nil }
        self.local = local.address
        self.remote = remote.address
    }

    /// The uid that created the peer's socket, as the kernel's socket-diag interface reports it;
    /// `nil` when the kernel does not know the socket (it already closed) or cannot be asked.
    func ownerUID() -> UInt32? {
        var uid: UInt32 = 0
        let status = fnhost_tcp_socket_owner(
            remote.sin_addr.s_addr, remote.sin_port, local.sin_addr.s_addr, local.sin_port, &uid)
        return status == 0 ? uid : nil
    }
}
