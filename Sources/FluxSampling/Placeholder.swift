// placeholder until the samplers land
