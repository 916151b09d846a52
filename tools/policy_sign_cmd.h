/*
 * policy_sign_cmd.h — signed policies in assayctl (offline):
 *   policy sign --key KEY.pem [--cert LEAF.pem [--chain CHAIN.pem]]
 *       [--name N] POLICY.yaml [-o OUT]
 *   policy verify --signer PEM [--signer PEM]... [--name N] ENVELOPE
 *       [-o POLICY_OUT]
 * The envelope format is common/proto/policy_env.h.
 */
#ifndef ASSAY_POLICY_SIGN_CMD_H
#define ASSAY_POLICY_SIGN_CMD_H

struct cmd_args;

/* 0 written; 1 the policy or the key refused; 2 usage or I/O error. */
int	cmd_policy_sign(struct cmd_args *a);
/*
 * 0 a signature verifies under a --signer (and the name is --name);
 * 1 refused (message on stderr); 2 usage, bad --signer or I/O error.
 */
int	cmd_policy_verify(struct cmd_args *a);

#endif
