/* evacuate.c: host maintenance and evacuation ("host.evacuate"). Contract stub: issue 16 fills it. */
typedef int sov_evacuate_unused;
