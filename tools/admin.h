/*
 * admin.h — assayctl's admin commands over the verifier's REST API, and
 * the connection settings they share (verifier address, admin cert).
 */
#ifndef ASSAY_ADMIN_H
#define ASSAY_ADMIN_H

struct ctl {
	char	*verifier;	/* host:port */
	char	*verifier_name;	/* expected CN of the verifier certificate */
	char	*cert, *key, *ca;
	int	 json;		/* print raw JSON */
	int	 timeout;
};

int	cmd_agents(struct ctl *c, int argc, char **argv);
int	cmd_policy(struct ctl *c, int argc, char **argv);
int	cmd_health(struct ctl *c, int argc, char **argv);
int	cmd_status(struct ctl *c, int argc, char **argv);
int	cmd_evidence(int argc, char **argv);

#endif
