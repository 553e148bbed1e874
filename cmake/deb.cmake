# The Debian package, made by CPack from the install rules above
# (scripts/deb: configured with CMAKE_INSTALL_PREFIX=/usr, so that the
# library goes to the multiarch directory the programs were built for).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kcmptrace)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "kcmptrace developers")
set(CPACK_PACKAGE_CONTACT "${KCMPTRACE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "trace file-descriptor inheritance across a process tree")
set(CPACK_PACKAGE_DESCRIPTION "kcmptrace runs a command with an LD_PRELOAD library that records,
in every process of its tree, each file descriptor and where it came from,
and asks the kernel with kcmp(2) which descriptors share an open file
description. Its report (text, JSON or Graphviz) names inheritance bugs:
sockets and pipe ends leaked across exec, pipe write ends that keep a
reader from seeing end of file, double closes.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bats, jq, graphviz")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_STRIP_FILES ON)
include(CPack)
