# percpuConfig.cmake - find_package(percpu) for an installed toolkit
# (`make install`): the INTERFACE target percpu::percpu.  Relocatable: the
# prefix is found from where this file is (<prefix>/share/cmake/percpu).
include(CMakeFindDependencyMacro)
find_dependency(Threads)
get_filename_component(_percpu_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.."
  ABSOLUTE)
if(NOT TARGET percpu::percpu)
  add_library(percpu::percpu INTERFACE IMPORTED)
  set_target_properties(percpu::percpu PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_percpu_prefix}/include"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
unset(_percpu_prefix)
