/*
 * policy_yaml.h — small helpers the policy section compilers share for
 * reading libyaml document nodes: the 1-based line of a node, and a
 * scalar's text (refusing non-scalars and embedded NULs with the line).
 */
#ifndef ASSAY_POLICY_YAML_H
#define ASSAY_POLICY_YAML_H

#include <stddef.h>

#include <yaml.h>

size_t	policy_yaml_line(const yaml_node_t *n);
int	policy_yaml_scalar(const yaml_node_t *n, const char *what, const char **out);

#endif
