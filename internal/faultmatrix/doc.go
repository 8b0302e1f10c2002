// Package faultmatrix holds the fault-matrix test: every built plugin
// binary against every path option it has, with every kind of bad or
// hanging file, as root and as the nagios user. It has no code of its own.
package faultmatrix
