#include "common/flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace bimride {

FlagParser::FlagParser(std::string command, std::string description)
    : command_(std::move(command)), description_(std::move(description)) {}

void FlagParser::AddString(std::string name, std::string* out, std::string help, bool required) {
  flags_.push_back({std::move(name), Kind::kString, out, std::move(help), required, false,
                    out->empty() ? "" : *out});
}
void FlagParser::AddInt(std::string name, int64_t* out, std::string help, bool required) {
  flags_.push_back({std::move(name), Kind::kInt, out, std::move(help), required, false,
                    std::to_string(*out)});
}
void FlagParser::AddDouble(std::string name, double* out, std::string help, bool required) {
  std::ostringstream def;
  def << *out;
  flags_.push_back(
      {std::move(name), Kind::kDouble, out, std::move(help), required, false, def.str()});
}
void FlagParser::AddBool(std::string name, bool* out, std::string help) {
  flags_.push_back({std::move(name), Kind::kBool, out, std::move(help), false, false,
                    *out ? "true" : ""});
}
void FlagParser::AddStringList(std::string name, std::vector<std::string>* out, std::string help,
                               bool required) {
  flags_.push_back({std::move(name), Kind::kStringList, out, std::move(help), required, false, ""});
}
void FlagParser::SetPositional(std::string name, std::vector<std::string>* out, std::string help,
                               int min, int max) {
  positional_name_ = std::move(name);
  positional_ = out;
  positional_help_ = std::move(help);
  positional_min_ = min;
  positional_max_ = max;
}

void FlagParser::SetDefaultText(const std::string& name, std::string text) {
  if (Flag* flag = Find(name)) flag->default_text = std::move(text);
}

FlagParser::Flag* FlagParser::Find(const std::string& name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool FlagParser::WasSet(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.seen;
  }
  return false;
}

Status FlagParser::Assign(Flag& flag, const std::string& value) {
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.out) = value;
      return OkStatus();
    case Kind::kInt: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE) {
        return InvalidArgumentError("--" + flag.name + ": '" + value + "' is not an integer");
      }
      *static_cast<int64_t*>(flag.out) = v;
      return OkStatus();
    }
    case Kind::kDouble: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) {
        return InvalidArgumentError("--" + flag.name + ": '" + value + "' is not a number");
      }
      *static_cast<double*>(flag.out) = v;
      return OkStatus();
    }
    case Kind::kBool:
      if (value == "true" || value == "1" || value == "yes") {
        *static_cast<bool*>(flag.out) = true;
      } else if (value == "false" || value == "0" || value == "no") {
        *static_cast<bool*>(flag.out) = false;
      } else {
        return InvalidArgumentError("--" + flag.name + ": '" + value + "' is not true/false");
      }
      return OkStatus();
    case Kind::kStringList:
      static_cast<std::vector<std::string>*>(flag.out)->push_back(value);
      return OkStatus();
  }
  return InternalError("unknown flag kind");
}

Status FlagParser::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg.size() < 2 || arg.rfind("--", 0) != 0) {
      if (!only_positional && arg.size() > 1 && arg[0] == '-' && arg != "-" &&
          !(arg.size() > 1 && (std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.'))) {
        if (arg == "-h") {
          help_requested_ = true;
          return OkStatus();
        }
        return InvalidArgumentError("unknown option '" + arg + "' (see " + command_ + " --help)");
      }
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "help") {
      help_requested_ = true;
      return OkStatus();
    }
    Flag* flag = Find(name);
    if (flag == nullptr) {
      return InvalidArgumentError("unknown option '--" + name + "' (see " + command_ + " --help)");
    }
    if (flag->kind == Kind::kStringList && !flag->seen) {
      static_cast<std::vector<std::string>*>(flag->out)->clear();  // drop defaults
    }
    flag->seen = true;
    if (flag->kind == Kind::kBool && !has_value) {
      *static_cast<bool*>(flag->out) = true;
      continue;
    }
    if (flag->kind == Kind::kStringList && !has_value) {
      size_t taken = 0;
      while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
        RETURN_IF_ERROR(Assign(*flag, args[++i]));
        ++taken;
      }
      if (taken == 0) return InvalidArgumentError("--" + name + ": needs at least one value");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return InvalidArgumentError("--" + name + ": needs a value");
      value = args[++i];
    }
    RETURN_IF_ERROR(Assign(*flag, value));
  }
  for (const Flag& f : flags_) {
    if (f.required && !f.seen) {
      return InvalidArgumentError("missing required option --" + f.name + " (see " + command_ +
                                  " --help)");
    }
  }
  if (positional_ == nullptr) {
    if (!positional.empty()) {
      return InvalidArgumentError("unexpected argument '" + positional[0] + "' (see " + command_ +
                                  " --help)");
    }
    return OkStatus();
  }
  int n = static_cast<int>(positional.size());
  if (n < positional_min_) {
    return InvalidArgumentError("missing " + positional_name_ + " (see " + command_ + " --help)");
  }
  if (positional_max_ >= 0 && n > positional_max_) {
    return InvalidArgumentError("too many arguments: '" + positional[positional_max_] + "' (see " +
                                command_ + " --help)");
  }
  *positional_ = std::move(positional);
  return OkStatus();
}

std::string FlagParser::Help() const {
  std::ostringstream out;
  out << "usage: " << command_ << " [options]";
  if (positional_ != nullptr) out << " " << positional_name_;
  out << "\n\n" << description_ << "\n";
  if (positional_ != nullptr) {
    out << "\narguments:\n  " << positional_name_ << "\n      " << positional_help_ << "\n";
  }
  out << "\noptions:\n";
  for (const Flag& f : flags_) {
    out << "  --" << f.name;
    switch (f.kind) {
      case Kind::kString: out << " TEXT"; break;
      case Kind::kInt: out << " N"; break;
      case Kind::kDouble: out << " X"; break;
      case Kind::kBool: break;
      case Kind::kStringList: out << " VALUE..."; break;
    }
    out << "\n      " << f.help;
    if (f.required) {
      out << " (required)";
    } else if (!f.default_text.empty() && f.help.find("(default") == std::string::npos) {
      out << " (default: " << f.default_text << ")";
    }
    out << "\n";
  }
  out << "  --help\n      show this help\n";
  return out.str();
}

}  // namespace bimride
