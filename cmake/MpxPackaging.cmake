# The Debian package of mpx (`cpack -G DEB` in the build directory, after building): both daemons,
# mpxctl, mpx-certs, the systemd units, the sample configuration and the README. Library
# dependencies come from dpkg-shlibdeps; the kernel tools the datapaths drive are recommended.
set(CPACK_PACKAGE_NAME "mpx")
set(CPACK_PACKAGE_VENDOR "mpx")
set(CPACK_PACKAGE_CONTACT "mpx maintainers <mpx@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "MediaProxy-compatible media relay for SIP networks (dispatcher, relay, mpxctl)")
set(CPACK_PACKAGE_DESCRIPTION
    "mpx anchors the media of SIP calls for OpenSIPS and Kamailio's mediaproxy module: a
dispatcher next to the proxy and relays that latch each endpoint and forward the flows in the
kernel (conntrack NAT, XDP or TC eBPF) or in userspace.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nftables, conntrack, iproute2")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bpftool, postgresql-client, freeradius-utils")
set(CPACK_STRIP_FILES ON)
include(CPack)
