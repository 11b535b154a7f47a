# The Debian package capfilt-studio: `cpack -G DEB` in the build folder (or the `package` target)
# writes capfilt-studio_<version>_<arch>.deb. app/CMakeLists.txt installs the two executables and
# resources/ (share/capfilt, where both programs look first, relative to their own location); this
# file adds what a desktop needs to show the studio in its menu and software centre, and declares
# the runtime dependencies with dpkg-shlibdeps. Included last from the top CMakeLists.txt.

set(CAPFILT_APP_ID "org.capfilt.CapFiltStudio")
set(CAPFILT_DESKTOP_DIR "${CMAKE_CURRENT_LIST_DIR}/desktop")

if(CAPFILT_BUILD_UI)
  install(FILES "${CAPFILT_DESKTOP_DIR}/${CAPFILT_APP_ID}.desktop" DESTINATION share/applications)
  install(FILES "${CAPFILT_DESKTOP_DIR}/icons/${CAPFILT_APP_ID}.svg"
          DESTINATION share/icons/hicolor/scalable/apps)
  foreach(size 16 32 48 64 128 256)
    install(FILES "${CAPFILT_DESKTOP_DIR}/icons/${size}x${size}/${CAPFILT_APP_ID}.png"
            DESTINATION share/icons/hicolor/${size}x${size}/apps)
  endforeach()
  # The release date honours SOURCE_DATE_EPOCH, so a reproducible build gets a fixed one.
  string(TIMESTAMP CAPFILT_RELEASE_DATE "%Y-%m-%d" UTC)
  configure_file("${CAPFILT_DESKTOP_DIR}/${CAPFILT_APP_ID}.metainfo.xml.in"
                 "${CMAKE_CURRENT_BINARY_DIR}/installer/${CAPFILT_APP_ID}.metainfo.xml" @ONLY)
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/installer/${CAPFILT_APP_ID}.metainfo.xml"
          DESTINATION share/metainfo)
endif()

set(CAPFILT_PACKAGE_CONTACT "CapFilt Studio maintainers <capfilt-studio@localhost>"
    CACHE STRING "Maintainer field of the Debian package (name <email>)")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "capfilt-studio")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${CAPFILT_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Curate image-text datasets with BLIP (CapFilt)")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
# Directories rwxr-xr-x whatever the umask of whoever packages.
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # capfilt-studio_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Depends: computed by dpkg-shlibdeps from the libraries the executables link (LibTorch, Qt,
# OpenCV, SQLite, libarchive), so it follows whatever the package was built against.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# LibTorch's own Depends is satisfied by the reference BLAS (measured in a clean Debian 12 root:
# 2 GFLOP/s). The OpenMP OpenBLAS is ~25x faster and shares LibTorch's thread pool (installer/dev.sh),
# and its alternative outranks the reference one, so apt's default (recommends on) selects it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp")
# CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY on the first line (the synopsis) and this below it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "CapFilt Studio cleans image-text datasets the way BLIP's CapFilt does: a
captioner writes synthetic captions, a filter scores every caption against
its image, and the noisy ones are proposed for removal. capfilt-studio is
the desktop studio to review the proposals and run jobs; capfilt runs every
job (import, CapFilt, training, evaluation, export) from the command line.")

include(CPack)

# Tests of the package. package_deb builds it (a fixture, so the checks that need the .deb run
# after it, and `ctest -R package_deb_contents` builds it too). cpack builds the `preinstall`
# target first, which is up to date after the build the tests follow.
if(CAPFILT_BUILD_TESTS AND CAPFILT_BUILD_UI)
  set(CAPFILT_PACKAGE_OUT "${CMAKE_BINARY_DIR}/package")
  add_test(NAME package_deb
           COMMAND "${CMAKE_CURRENT_LIST_DIR}/build-package.sh" "${CMAKE_BINARY_DIR}"
                   "${CAPFILT_PACKAGE_OUT}")
  set_tests_properties(package_deb PROPERTIES FIXTURES_SETUP capfilt_deb LABELS "unit;package"
                                              TIMEOUT 600)
  add_test(NAME package_deb_contents
           COMMAND "${CMAKE_CURRENT_LIST_DIR}/check-package.sh" "${CAPFILT_PACKAGE_OUT}")
  set_tests_properties(package_deb_contents PROPERTIES FIXTURES_REQUIRED capfilt_deb
                                                       LABELS "unit;package" TIMEOUT 120)
  # Installs the package in a fresh Debian 12 root, runs both programs there, removes it.
  add_test(NAME package_deb_install_bookworm
           COMMAND "${CMAKE_CURRENT_LIST_DIR}/install-check-bookworm.sh" "${CAPFILT_PACKAGE_OUT}")
  set_tests_properties(package_deb_install_bookworm PROPERTIES FIXTURES_REQUIRED capfilt_deb
                                                               LABELS "slow;package" TIMEOUT 3600
                                                               SKIP_RETURN_CODE 77)
endif()
