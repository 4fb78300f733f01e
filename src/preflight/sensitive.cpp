#include "preflight/sensitive.h"

namespace hotline {
namespace {

struct Entry {
  std::string_view comm;
  std::string_view what;
};

// Matched on the whole comm (at most 15 characters, as the kernel keeps it).
constexpr Entry kSensitive[] = {
    {"sshd", "the SSH server (authentication, host keys)"},
    {"ssh-agent", "the SSH agent (private keys)"},
    {"gpg-agent", "the GnuPG agent (private keys, passphrases)"},
    {"sudo", "sudo (authentication)"},
    {"su", "su (authentication)"},
    {"login", "login (authentication)"},
    {"polkitd", "polkit (authorization)"},
    {"systemd-logind", "the login manager (sessions, authentication)"},
    {"gnome-keyring-d", "the GNOME keyring (stored secrets)"},
    {"kwalletd5", "KWallet (stored secrets)"},
    {"kwalletd6", "KWallet (stored secrets)"},
    {"keepassxc", "KeePassXC (passwords)"},
    {"1password", "1Password (passwords)"},
    {"bitwarden", "Bitwarden (passwords)"},
    {"vault", "HashiCorp Vault (secrets)"},
    {"pcscd", "the smart card daemon (keys)"},
    {"ssh-keysign", "ssh-keysign (host keys)"},
};

}  // namespace

std::optional<std::string> sensitive_process(std::string_view comm) {
  for (const auto& e : kSensitive) {
    if (comm == e.comm) return std::string(e.what);
  }
  return std::nullopt;
}

}  // namespace hotline
