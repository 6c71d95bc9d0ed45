#ifndef LOCKSTEP_LIBSSH2_SHIM_H
#define LOCKSTEP_LIBSSH2_SHIM_H
#include <libssh2.h>
#include <libssh2_sftp.h>

// libssh2 spells much of its API as macros over *_ex functions; Swift imports functions, so these
// inline wrappers give the macros a callable form.

static inline LIBSSH2_SESSION *lockstep_ssh_session_init(void) { return libssh2_session_init(); }

static inline LIBSSH2_CHANNEL *lockstep_ssh_channel_open(LIBSSH2_SESSION *s) {
    return libssh2_channel_open_session(s);
}

static inline int lockstep_ssh_channel_exec(LIBSSH2_CHANNEL *c, const char *command) {
    return libssh2_channel_exec(c, command);
}

static inline ssize_t lockstep_ssh_channel_read(LIBSSH2_CHANNEL *c, int stream, char *buf, size_t len) {
    return libssh2_channel_read_ex(c, stream, buf, len);
}

static inline int lockstep_ssh_channel_eof(LIBSSH2_CHANNEL *c) { return libssh2_channel_eof(c); }

static inline int lockstep_ssh_auth_key(LIBSSH2_SESSION *s, const char *user, const char *private_key,
                                        const char *passphrase) {
    return libssh2_userauth_publickey_fromfile(s, user, NULL, private_key, passphrase);
}

static inline LIBSSH2_SFTP_HANDLE *lockstep_sftp_open(LIBSSH2_SFTP *sftp, const char *path, unsigned long flags,
                                                      long mode) {
    return libssh2_sftp_open(sftp, path, flags, mode);
}

static inline int lockstep_sftp_close(LIBSSH2_SFTP_HANDLE *h) { return libssh2_sftp_close(h); }

static inline int lockstep_knownhost_read(LIBSSH2_KNOWNHOSTS *kh, const char *path) {
    return libssh2_knownhost_readfile(kh, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
}

static inline int lockstep_knownhost_write(LIBSSH2_KNOWNHOSTS *kh, const char *path) {
    return libssh2_knownhost_writefile(kh, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
}

static inline int lockstep_sftp_flags_write(void) { return LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC; }
static inline int lockstep_sftp_flags_read(void) { return LIBSSH2_FXF_READ; }
static inline int lockstep_knownhost_plain_raw(void) {
    return LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW;
}

/// The knownhost key-type bits for a session host key type (LIBSSH2_HOSTKEY_TYPE_*).
static inline int lockstep_knownhost_keybits(int hostkey_type) {
    switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
#ifdef LIBSSH2_HOSTKEY_TYPE_ECDSA_256
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
#endif
#ifdef LIBSSH2_HOSTKEY_TYPE_ED25519
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
#endif
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
    }
}
#endif
