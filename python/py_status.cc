#include "py_status.h"

namespace bimride::python {

void RegisterError(py::module_& m) {
  static py::handle error_type;  // lives as long as the module (never unloaded)
  error_type = py::exception<StatusError>(m, "Error", PyExc_Exception).release();
  py::setattr(error_type, "__module__", py::str("bimride"));  // shown as bimride.Error
  py::setattr(error_type, "__doc__",
              py::str("A BimRide error: str(e) is the library's message, e.code its status code "
                      "name (NOT_FOUND, INVALID_ARGUMENT, DATA_LOSS, ...)."));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      py::object error = py::reinterpret_borrow<py::object>(error_type)(e.status.message());
      error.attr("code") = py::str(std::string(StatusCodeName(e.status.code())));
      PyErr_SetObject(error_type.ptr(), error.ptr());
    }
  });
}

void ThrowInvalidArgument(const std::string& message) {
  throw StatusError{InvalidArgumentError(message)};
}

}  // namespace bimride::python
