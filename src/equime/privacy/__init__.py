"""Privacy defence: perturb videos so that emotion recognisers cannot read them, and measure it."""
