//! Network interfaces: is one up, and bringing one up with netlink.
//!
//! Where it sits: above the syscall layer, which it composes (a socket, an
//! ioctl or a netlink request and its ack); used by the newnet experiment and
//! the container. Each function makes its socket and closes it again.

use crate::arch::{syscall3, syscall6};
use crate::errno::{decode, Errno};
use crate::sys::OwnedFd;
use core::ffi::c_int;
use linux_raw_sys::general as k;

/// `socket(domain, type | SOCK_CLOEXEC, protocol)`, owned.
fn socket(domain: u32, kind: u32, protocol: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: socket takes no pointers.
    let fd = decode(unsafe {
        syscall3(
            k::__NR_socket,
            domain as usize,
            (kind | k::O_CLOEXEC) as usize,
            protocol as usize,
        )
    })?;
    // SAFETY: the kernel just opened it for us alone.
    Ok(unsafe { OwnedFd::from_raw(fd as c_int) })
}

/// `ioctl(request)` on interface `name` (e.g. `b"lo"`, at most 15 bytes
/// used) through a datagram socket: the filled `ifreq`. ENODEV if this
/// network namespace has no such interface.
fn interface_ioctl(name: &[u8], request: u32) -> Result<linux_raw_sys::net::ifreq, Errno> {
    use linux_raw_sys::net;
    let sock = socket(net::AF_INET, net::SOCK_DGRAM, 0)?;
    // SAFETY: ifreq is plain old data.
    let mut req: net::ifreq = unsafe { core::mem::zeroed() };
    // SAFETY: writing the name into the union's name member (16 bytes, NUL-padded).
    unsafe {
        for (dst, &src) in req.ifr_ifrn.ifrn_name.iter_mut().zip(name.iter().take(15)) {
            *dst = src as _;
        }
    }
    // SAFETY: req is a valid ifreq for an interface request to fill.
    let result = decode(unsafe {
        syscall3(
            k::__NR_ioctl,
            sock.as_raw() as usize,
            request as usize,
            &mut req as *mut net::ifreq as usize,
        )
    });
    drop(sock);
    result.map(|_| req)
}

/// Whether interface `name` (e.g. `b"lo"`) is up, via `SIOCGIFFLAGS`;
/// ENODEV if this network namespace has no such interface.
pub fn interface_is_up(name: &[u8]) -> Result<bool, Errno> {
    use linux_raw_sys::net;
    let req = interface_ioctl(name, linux_raw_sys::ioctl::SIOCGIFFLAGS)?;
    // SAFETY: SIOCGIFFLAGS filled the flags member.
    let flags = unsafe { req.ifr_ifru.ifru_flags } as u32;
    Ok(flags & net::net_device_flags::IFF_UP as u32 != 0)
}

/// The index of interface `name` in this network namespace, via
/// `SIOCGIFINDEX` (what `if_nametoindex(3)` does); ENODEV if there is none.
pub fn interface_index(name: &[u8]) -> Result<u32, Errno> {
    let req = interface_ioctl(name, linux_raw_sys::ioctl::SIOCGIFINDEX)?;
    // SAFETY: SIOCGIFINDEX filled the index member.
    Ok(unsafe { req.ifr_ifru.ifru_ivalue } as u32)
}

/// Bring network interface `index` up with a raw netlink `RTM_NEWLINK`
/// request (what `ip link set lo up` sends), and wait for the kernel's ack.
pub fn netlink_link_up(index: i32) -> Result<(), Errno> {
    use linux_raw_sys::net;
    use linux_raw_sys::netlink as nl;
    #[repr(C)]
    struct Request {
        header: nl::nlmsghdr,
        link: nl::ifinfomsg,
    }
    let sock = socket(net::AF_NETLINK, net::SOCK_RAW, nl::NETLINK_ROUTE)?;
    let up = net::net_device_flags::IFF_UP as u32;
    let request = Request {
        header: nl::nlmsghdr {
            nlmsg_len: core::mem::size_of::<Request>() as u32,
            nlmsg_type: nl::RTM_NEWLINK as u16,
            nlmsg_flags: (nl::NLM_F_REQUEST | nl::NLM_F_ACK) as u16,
            nlmsg_seq: 1,
            nlmsg_pid: 0,
        },
        link: nl::ifinfomsg {
            ifi_family: 0,
            __ifi_pad: 0,
            ifi_type: 0,
            ifi_index: index,
            ifi_flags: up,
            ifi_change: up,
        },
    };
    let mut reply = [0u64; 128];
    // SAFETY: request and reply are valid for their lengths; a NULL address
    // sends to the kernel.
    let result = decode(unsafe {
        syscall6(
            k::__NR_sendto,
            sock.as_raw() as usize,
            &request as *const Request as usize,
            core::mem::size_of::<Request>(),
            0,
            0,
            0,
        )
    })
    .and_then(|_| {
        // SAFETY: as above.
        decode(unsafe {
            syscall6(
                k::__NR_recvfrom,
                sock.as_raw() as usize,
                reply.as_mut_ptr() as usize,
                1024,
                0,
                0,
                0,
            )
        })
    });
    drop(sock);
    result?;
    // SAFETY: the reply starts with an nlmsghdr; an ack is NLMSG_ERROR with error 0.
    let header = unsafe { &*(reply.as_ptr() as *const nl::nlmsghdr) };
    if header.nlmsg_type as u32 == nl::NLMSG_ERROR {
        // SAFETY: an NLMSG_ERROR payload is an nlmsgerr, right after the header.
        let error = unsafe { &*((reply.as_ptr() as *const u8).add(16) as *const nl::nlmsgerr) };
        if error.error != 0 {
            return Err(Errno::from_raw((-error.error) as u16));
        }
    }
    Ok(())
}
