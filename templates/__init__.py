"""Default email templates, shipped inside the wheel so an installed coachd finds them."""
