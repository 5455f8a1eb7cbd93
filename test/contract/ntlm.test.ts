/**
 * The connection and transfer contracts over NTLM: message encryption on plain HTTP with the mock left at
 * Windows' default AllowUnencrypted=false, and NTLM inside HTTPS (no message encryption, channel bindings
 * required), and NTLM wrapped in SPNEGO (negotiateForm 'spnego', the form pypsrp and Ansible send).
 */
import { describeConnectionContract } from './connection-contract.ts';
import { mockEnvironment } from './mock-environment.ts';
import { describeTransferContract } from './transfer-contract.ts';

const USER = { name: 'svc-deploy', password: 'Ntlm&Contract-1', domain: 'CORP' };

for (const https of [false, true]) {
  const name = https
    ? 'WINRM_INTERNAL, NTLM over HTTPS with channel binding'
    : 'WINRM_INTERNAL, NTLM with encryption over HTTP (AllowUnencrypted=false)';
  const setup = () =>
    mockEnvironment(
      { https, users: [USER], auth: { negotiate: true, channelBinding: https ? 'strict' : 'none' } },
      (mock) => ({
        endpoint: mock.url,
        username: `${USER.domain}\\${USER.name}`,
        password: USER.password,
        auth: 'ntlm',
        tls: https ? { fingerprint: mock.thumbprints!.sha256 } : undefined,
      }),
    );
  describeConnectionContract(name, setup);
  describeTransferContract(name, setup);
}

// SPNEGO-wrapped NTLM, sealed over HTTP: the mechListMIC re-keys both RC4 handles, so every sealed message of
// the contract proves both sides agree on the state afterwards.
describeConnectionContract('WINRM_INTERNAL, NTLM inside SPNEGO with encryption over HTTP', () =>
  mockEnvironment({ users: [USER], auth: { negotiate: true } }, (mock) => ({
    endpoint: mock.url,
    username: `${USER.domain}\\${USER.name}`,
    password: USER.password,
    auth: 'ntlm',
    negotiateForm: 'spnego',
  })),
);
