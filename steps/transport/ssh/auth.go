package ssh

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authMethods returns the authentication methods to offer, a description of
// them for errors ("/root/.ssh/id_ed25519, the SSH agent, a password") and a
// closer for the agent connection, which is only needed during the handshake.
func (s *settings) authMethods() (methods []ssh.AuthMethod, offered []string, done func(), err error) {
	done = func() {}
	var files []ssh.Signer
	var fileNames []string
	for _, f := range s.identity {
		sg, err := loadIdentity(f)
		if err != nil {
			if s.quiet {
				// Default keys, and those ssh_config names, are tried
				// when they are usable, as ssh(1) does; say which were
				// skipped only when encrypted.
				if errors.Is(err, errEncrypted) {
					offered = append(offered, f+" (encrypted: skipped; load it with ssh-add)")
				}
				continue
			}
			return nil, nil, done, fmt.Errorf("ssh: %s: %w", s.target, err)
		}
		files = append(files, sg...)
		fileNames = append(fileNames, f)
	}

	var agentSigners func() ([]ssh.Signer, error)
	if s.agent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		switch c, err := dialAgent(sock); {
		case err == nil:
			done = func() { c.Close() }
			agentSigners = agent.NewClient(c).Signers
		case s.agentReq:
			return nil, nil, done, fmt.Errorf("ssh: %s: UseAgent is set but %v", s.target, err)
		}
	}

	if len(files) > 0 || agentSigners != nil {
		// One method holding every key: x/crypto tries each method name
		// once, so a second "publickey" method would never be used.
		agentFirst := s.defaults // as ssh(1); explicit files come first
		methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			var fromAgent []ssh.Signer
			if agentSigners != nil {
				fromAgent, _ = agentSigners() // an agent failing is like an agent without keys
			}
			if agentFirst {
				return append(fromAgent, files...), nil
			}
			return append(slices.Clone(files), fromAgent...), nil
		}))
		if agentSigners != nil {
			if agentFirst {
				fileNames = append([]string{"the SSH agent"}, fileNames...)
			} else {
				fileNames = append(fileNames, "the SSH agent")
			}
		}
		offered = append(fileNames, offered...)
	}

	if s.password != "" {
		pw := s.password
		methods = append(methods,
			ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echo []bool) ([]string, error) {
				// Hidden prompts get the password; echoed ones (which
				// ask for something else) get nothing.
				answers := make([]string, len(questions))
				for i := range questions {
					if !echo[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
		offered = append(offered, "a password")
	}
	if len(methods) == 0 {
		done()
		return nil, nil, func() {}, fmt.Errorf("ssh: %s: no way to log in: no usable identity file (%s), no SSH agent (SSH_AUTH_SOCK) and no password",
			s.target, strings.Join(s.identity, ", "))
	}
	return methods, offered, done, nil
}

func dialAgent(sock string) (net.Conn, error) {
	if sock == "" {
		return nil, errors.New("SSH_AUTH_SOCK is not set")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the SSH agent: %w", err)
	}
	return c, nil
}

var errEncrypted = errors.New("the key is encrypted with a passphrase; load it into the SSH agent (ssh-add) and set UseAgent")

// loadIdentity reads a private key and, when FILE-cert.pub is beside it, its
// certificate. Errors name the file, never its contents.
func loadIdentity(path string) ([]ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	sg, err := ssh.ParsePrivateKey(data)
	clear(data)
	if err != nil {
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return nil, fmt.Errorf("identity file %s: %w", path, errEncrypted)
		}
		// The parser's message is not repeated: it could quote the file.
		return nil, fmt.Errorf("identity file %s: not a private key rokflow can read (OpenSSH or PEM format, without a passphrase)", path)
	}
	signers := []ssh.Signer{sg}
	if cert := readCert(path + "-cert.pub"); cert != nil && ssh.FingerprintSHA256(cert.Key) == ssh.FingerprintSHA256(sg.PublicKey()) {
		if cs, err := ssh.NewCertSigner(cert, sg); err == nil {
			signers = []ssh.Signer{cs, sg}
		}
	}
	return signers, nil
}

func readCert(path string) *ssh.Certificate {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil
	}
	cert, _ := pub.(*ssh.Certificate)
	return cert
}
